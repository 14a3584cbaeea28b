"""Training, evaluation and benchmarks of the segmenter.

Importing the package registers the research ``resnet34-unet`` architecture with the served loader,
so every command here can build and load either architecture.
"""

from training.segmentation import resnet_unet  # noqa: F401  (registers "resnet34-unet")
