"""Server-rendered pages: the /s/{token} landing page a phone camera opens."""
