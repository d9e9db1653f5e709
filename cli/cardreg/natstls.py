"""TLS material for nats-server: a private CA and a server certificate it signs (`cryptography`).

One layout everywhere, so that `cardreg up`, the compose deployment and an operator's own
certificates are interchangeable:

    ca.crt       the CA certificate the services verify the server against (public)
    ca.key       the CA's private key (only when we made the CA; 0600)
    server.crt   nats-server's certificate, valid for the names clients connect to
    server.key   its private key (0600)

`cardreg up` keeps a CA per data dir and issues a fresh server certificate at every start;
`cardreg nats-certs` writes the same files for a deployment (`deploy/README.md`, "TLS").
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY = "ca.crt", "ca.key", "server.crt", "server.key"
VALIDITY = datetime.timedelta(days=3650)
LOCAL_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class TlsFiles:
    """The files a TLS nats-server and its clients need."""

    ca_cert: Path
    server_cert: Path
    server_key: Path

    @classmethod
    def in_dir(cls, folder: Path) -> TlsFiles:
        return cls(folder / CA_CERT, folder / SERVER_CERT, folder / SERVER_KEY)

    def missing(self) -> list[Path]:
        return [p for p in (self.ca_cert, self.server_cert, self.server_key) if not p.is_file()]


def _write_private(path: Path, data: bytes) -> None:
    """Create or replace `path` with mode 0600 from its first byte (no window where the
    umask's mode applies), through a temporary name so readers never see half a key."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    temporary.replace(path)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def ensure_ca(folder: Path, *, common_name: str = "cardreg NATS CA") -> None:
    """Create `ca.crt` and `ca.key` in `folder` unless both exist."""
    have = [(folder / name).is_file() for name in (CA_CERT, CA_KEY)]
    if all(have):
        return
    if any(have):
        raise RuntimeError(f"{folder} holds only one of {CA_CERT} and {CA_KEY}: cannot issue")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(folder / CA_KEY, _pem_key(key))
    (folder / CA_CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _san(hosts: tuple[str, ...] | list[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def issue_server_cert(folder: Path, hosts: tuple[str, ...] | list[str]) -> TlsFiles:
    """A new `server.crt`/`server.key` for `hosts` (names or IP addresses), signed by the CA
    in `folder`."""
    ca_key = serialization.load_pem_private_key((folder / CA_KEY).read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate((folder / CA_CERT).read_bytes())
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_san(hosts), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(folder / SERVER_KEY, _pem_key(key))
    (folder / SERVER_CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return TlsFiles.in_dir(folder)


def certs_main(argv: list[str]) -> int:
    """`cardreg nats-certs`: a CA and a server certificate for a deployment's nats-server."""
    parser = argparse.ArgumentParser(
        prog="cardreg nats-certs",
        description="Write ca.crt, ca.key, server.crt and server.key for nats-server "
        "(deploy/README.md, 'TLS'). An existing CA in the directory is kept and reused.",
    )
    parser.add_argument("--dir", type=Path, required=True, help="where to write the files")
    parser.add_argument(
        "--host",
        action="append",
        dest="hosts",
        metavar="NAME",
        help="a name or IP address clients connect to; repeat it (default: nats, localhost, "
        "127.0.0.1, as deploy/compose.yaml needs)",
    )
    args = parser.parse_args(argv)
    hosts = args.hosts or ["nats", "localhost", "127.0.0.1"]
    ensure_ca(args.dir)
    files = issue_server_cert(args.dir, hosts)
    print(
        f"wrote {files.server_cert} for {', '.join(hosts)}, signed by {files.ca_cert}; "
        f"keep {args.dir / CA_KEY} and {files.server_key} private"
    )
    return 0
