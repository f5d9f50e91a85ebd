"""nasuite.reproduce: one entry per published comparison (added with the reproduction issue)."""
