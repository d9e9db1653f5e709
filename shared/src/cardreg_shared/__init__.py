"""cardreg contracts: subject names, models, error codes and the bus layer every service uses."""
