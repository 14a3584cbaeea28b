"""Garment embeddings: a ResNet34 trunk that maps a garment photo to a 512-d unit vector.

Catalog photos and garments cut out of street photos land in one space, so cosine
nearest neighbours find similar products. Layers, bottom up:

* :mod:`.preprocess` — the one image → tensor function (training, evaluation, serving);
* :mod:`.model` — the module, its builder from a config, and the loader of shipped weights;
* :mod:`.data` — catalog folder trees and CCP street garment crops;
* :mod:`.train`, :mod:`.evaluate`, :mod:`.benchmark`, :mod:`.street_queries` — CLIs;
* :mod:`.inference` — :class:`Embedder`, what the application calls.

Nothing here imports Django.
"""

WEIGHTS_NAME = "resnet34-garments"
