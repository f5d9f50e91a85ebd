"""One module per ``nasuite`` subcommand group."""
