"""The reader agent: the card-reader component that runs on the user's PC (see AGENT.md).

`cli.agent_main` is `cardreg agent`; `server` the HTTP API on 127.0.0.1; `reader` the backend
interface, with `pcsc` (pyscard) and `virtual` (a wallet line); `card_protocol`, `profile` and
`big5` read a card; `errors` holds the FAQ 15 codes and texts; `wallet` the wallet entries.
"""
