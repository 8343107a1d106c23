"""Code shared by every Lambda function; packaged next to each function's handler."""
