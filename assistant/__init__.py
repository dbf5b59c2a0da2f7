"""peerqa: question answering over LGA corporate peer challenge documents.

Importing the package switches every library it uses to offline mode before any of them is
imported, so no code path reaches a model hub, an analytics endpoint or a version check.
"""

import os

_OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
for _key, _value in _OFFLINE.items():
    os.environ[_key] = _value
_NO_PROXY = "localhost,127.0.0.1,::1"
for _key in ("no_proxy", "NO_PROXY"):
    _current = os.environ.get(_key, "")
    os.environ[_key] = f"{_current},{_NO_PROXY}" if _current else _NO_PROXY

__version__ = "0.1.0"
