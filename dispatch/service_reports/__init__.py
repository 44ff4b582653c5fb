"""The service report of a ticket (PDF): what was promised and kept, what was done, and what the customer signed.

`service.gather_report` reads it from the database into plain values; `pdf.render_report` draws it in the
reader's language. Not the managers' reports of the board (`dispatch.board.reports`).
"""
