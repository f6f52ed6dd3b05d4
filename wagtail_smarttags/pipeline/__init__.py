"""The tagging pipeline and what it is made of, with the asset kinds it tags (``pipeline.kinds``)."""
