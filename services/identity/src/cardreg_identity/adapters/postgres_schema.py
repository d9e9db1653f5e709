"""The identity schema on PostgreSQL: the twin of schema.py, applied under an advisory lock
(`cardreg_shared.postgres`). Append new versions; never edit one that has shipped."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: people (with their guessing state) and the card roster, as sqlite's version 1.
    """
    CREATE TABLE people (
        id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        person_id         text NOT NULL UNIQUE,
        id_no             text NOT NULL UNIQUE,
        kind              text NOT NULL CHECK (kind IN ('citizen', 'foreigner')),
        name              text NOT NULL,
        birth_date        date NOT NULL,
        sex               text NOT NULL CHECK (sex IN ('M', 'F')),
        household_no      text,
        township          text,
        village           text,
        neighborhood      integer,
        permit_issued_on  date,
        permit_expires_on date,
        permit_serial_no  text,
        failed_guesses    integer NOT NULL DEFAULT 0,
        locked_until      double precision,
        CHECK (kind <> 'citizen' OR (household_no IS NOT NULL AND township IS NOT NULL
               AND village IS NOT NULL AND neighborhood IS NOT NULL)),
        CHECK (kind <> 'foreigner' OR (permit_issued_on IS NOT NULL
               AND permit_expires_on IS NOT NULL AND permit_serial_no IS NOT NULL))
    );
    CREATE TABLE cards (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        card_no    text NOT NULL UNIQUE,
        person_id  text NOT NULL REFERENCES people (person_id),
        issued_on  date NOT NULL,
        public_key bytea NOT NULL CHECK (length(public_key) = 32),
        status     text NOT NULL CHECK (status IN ('active', 'replaced'))
    );
    CREATE INDEX cards_by_person ON cards (person_id, issued_on);
    """,
    # 2: insured units (employers) and who is insured through which; passports and driving
    # licences, as sqlite's version 2.
    """
    CREATE TABLE insured_units (
        unit_id text PRIMARY KEY CHECK (length(unit_id) = 9),
        name    text NOT NULL
    );
    ALTER TABLE people ADD COLUMN passport_no text;
    ALTER TABLE people ADD COLUMN driving_licence_no text;
    ALTER TABLE people ADD COLUMN insured_unit text REFERENCES insured_units (unit_id);
    CREATE INDEX people_by_unit ON people (insured_unit) WHERE insured_unit IS NOT NULL;
    """,
)
