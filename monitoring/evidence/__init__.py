"""What real mail shows: the receiver, outbound observations and SMTP TLS reports."""
