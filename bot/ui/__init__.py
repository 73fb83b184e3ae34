"""What people read: texts, keyboards, rendered messages, report text, charts, workbooks."""
