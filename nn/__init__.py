"""Digit Lab's engine: everything that is not the page.

The network (`nn.network`), the MNIST data (`nn.mnist`), the drawing-to-MNIST pipeline
(`nn.preprocess`), model files (`nn.modelfile`), training runs (`nn.training`) and the
command line (`python -m nn.train`). Nothing here imports Streamlit.
"""
