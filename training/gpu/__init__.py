"""GPU training runs: compact packs in, fp16 weight parts and metrics out.

* :mod:`.packs` (``make gpu-packs``) writes one compact, pickle-free ``.npz`` per model into
  ``gpu/packs/`` (git-ignored): photos as WebP at training size, labels as uint8;
* :mod:`.train_segmentation` and :mod:`.train_embedder` train from one pack within a wall-clock
  budget (bf16 autocast, augmentation on the GPU) and write the best weights as fp16 safetensors
  parts of at most 16 MiB plus ``metrics.json`` into ``--out``;
* :mod:`.export` joins the parts and writes shipped weights (manifest and model card) through
  :func:`recommender.ml.weights.save_weights`.

See ``docs/models/GPU.md`` for the commands. Nothing here imports Django.
"""
