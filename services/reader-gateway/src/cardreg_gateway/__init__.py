"""cardreg reader gateway: the HTTP edge (JSON API, card challenges) and the reader agent."""
