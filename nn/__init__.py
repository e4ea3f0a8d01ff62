"""Digit Lab's engine: the network, its training, the data, drawing preparation, model files,
the training-run manager and the command line. Nothing here imports Streamlit or Plotly
(tests/test_boundary.py checks it); the page is `app.py` and `ui/`.

The network (`nn.network`), the MNIST data (`nn.mnist`), the drawing-to-MNIST pipeline
(`nn.preprocess`), model files (`nn.modelfile`), a run's settings (`nn.settings`), the
training loop (`nn.trainer`), the server's runs (`nn.run_manager`, `nn.worker`,
`nn.protocol`) and the command line (`python -m nn.train`). Nothing here imports Streamlit.
"""
