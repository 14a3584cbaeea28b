"""The stylist's priors: which garments and colours real street outfits wear together.

``priors`` (served) reads the fitted tables and scores a pairing; ``fit`` learns them from the
street photos (CCP pixel labels and tags). No Django here.
"""
