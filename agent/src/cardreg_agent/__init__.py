"""The reader agent: the card-reader component that runs on the user's PC (see README.md).

`cli.agent_main` is `cardreg agent`; `server` the HTTP API on 127.0.0.1 (aiohttp); `reader`
the backend interface, with `pcsc` (pyscard) and `virtual` (a wallet line); `card_protocol`,
`profile` and `big5` read a card; `errors` holds the FAQ 15 codes and texts; `wallet` the
wallet line as a card (its key signs).
"""
