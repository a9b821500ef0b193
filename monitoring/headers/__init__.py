"""The Received-header analyzer: a parser of pasted headers, its wording, its page and command."""
