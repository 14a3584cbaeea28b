"""Complete the look: which garments go with which, learned from real street outfits.

Layers, bottom up:

* :mod:`.outfits` — the garments of one outfit photo, in slots (top, bottom, dress, outerwear);
* :mod:`.features` — the one garment → feature vector function (embedding, colour, texture);
* :mod:`.augment` — independent photometric jitter against same-photo leakage;
* :mod:`.model` — the two-tower module, its builder and the loader of shipped weights;
* :mod:`.data`, :mod:`.train`, :mod:`.evaluate` — feature cache, training and measuring CLIs;
* :mod:`.inference` — :class:`~.inference.ComplementModel`, what the application calls.

Nothing here imports Django.
"""

WEIGHTS_NAME = "complement-ccp"
