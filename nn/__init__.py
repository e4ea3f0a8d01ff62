"""Digit Lab's engine: everything that is not the page.

The network (`nn.network`), the MNIST data (`nn.mnist`), the drawing-to-MNIST pipeline
(`nn.preprocess`), model files (`nn.modelfile`), a run's settings (`nn.settings`), the
training loop (`nn.trainer`), the server's runs (`nn.run_manager`, `nn.worker`,
`nn.protocol`) and the command line (`python -m nn.train`). Nothing here imports Streamlit.
"""
