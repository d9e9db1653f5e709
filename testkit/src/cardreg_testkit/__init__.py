"""What the tests of every package share, and nothing ships at run time:

- `people`: a virtual person with a card (`wallet_person`), as a wallet line signs;
- `peers`: a scripted peer, a fake service on a real nats-server answering chosen subjects;
- `clock`: `FakeClock`, time that moves only when a test says so;
- `waits`: `wait_until` (async) and `poll_until` (blocking), on conditions, never on sleeps;
- `nats`: the real nats-server the tests run on, and the pytest fixtures around it (`fixtures`);
- `net`: `free_port` for servers a test starts that cannot pick their own port.
"""
