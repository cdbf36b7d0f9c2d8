"""Local stand-ins for the online speech services, served on 127.0.0.1 only."""
