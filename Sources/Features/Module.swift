// Module anchor; the implementation arrives with its issue.
