"""Every output format in one place, one module per medium.

- ``common``: what all formats share (a passage's reference line, counts, snippets, numbering).
- ``text``: plain text for a terminal (``peerqa ask``, ``peerqa recommendations``), document text
  passed through ``terminal_safe``.
- ``markdown``: chat messages and Markdown exports; document and user text only through
  ``md_inert``, the one Markdown escaper.
- ``html``: the web app's source and context cards; document text only through ``esc``.
- ``jsonout``: the ``--json`` schemas (documented in the README).
- ``tables``: rows for the web app's tables and the register's CSV.

Nothing here retrieves or decides: each function turns a finished result into one format.
"""

from assistant.render.text import terminal_safe  # for code outside rendering that prints text

__all__ = ["terminal_safe"]
