"""Training runs sized for a lent GPU: compact packs in, fp16 weight parts and metrics out.

The GPU machine sees only the repository (64 MiB in all, tracked weights included) and
gives back at most 8 files of at most 16 MiB each, within 10 minutes a call. So:

* :mod:`.packs` (``make gpu-packs``) writes one compact, pickle-free ``.npz`` per model
  into ``gpu/packs/`` (git-ignored): photos as WebP at training size, labels as uint8,
  sized to fit beside the tracked files;
* :mod:`.train_segmentation` and :mod:`.train_embedder` train from one pack within a
  wall-clock budget (bf16 autocast, augmentation on the GPU) and write the best weights as
  fp16 safetensors parts of at most 16 MiB plus ``metrics.json`` into ``--out``;
* :mod:`.export` joins the parts back here and writes shipped weights (manifest and model
  card) through :func:`recommender.ml.weights.save_weights`.

See ``docs/models/GPU.md`` for the exact commands. Nothing here imports Django.
"""
