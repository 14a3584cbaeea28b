"""Outfit segmentation: a small U-Net that labels each pixel background / top / bottom / dress.

Entry points: :func:`~recommender.ml.segmentation.inference.get_segmenter` for serving,
``python -m training.segmentation.train`` to train, ``...evaluate`` to measure.
Submodules are imported lazily by callers so that ``import recommender.ml.segmentation``
stays cheap (torch is only loaded when a model is needed).
"""
