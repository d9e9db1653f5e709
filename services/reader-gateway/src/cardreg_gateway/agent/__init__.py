"""The reader agent: the card-reader component that runs on the user's PC."""
