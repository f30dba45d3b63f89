"""``python -m webapp.admin.password``: print a hash for MEDIAHUB_ADMIN_PASSWORD_HASH."""

import getpass
import sys

from werkzeug.security import generate_password_hash


def main() -> None:
    password = getpass.getpass("Admin password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 12:
        raise SystemExit("Choose a password of at least 12 characters.")
    print(generate_password_hash(password))


if __name__ == "__main__":
    main()
