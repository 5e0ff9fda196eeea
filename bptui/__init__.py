"""bptui: step through backpropagation live, on a real PyTorch tensor."""

__version__ = "0.1.0"
