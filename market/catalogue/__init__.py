"""The back office's catalogue of a stall: products, photos, vlog links and the QRIS code."""
