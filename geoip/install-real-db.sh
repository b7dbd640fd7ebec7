#!/bin/sh
# SPDX-License-Identifier: MIT
#
# install-real-db.sh: puts a real-world GeoIP database where meridiand can read it. Meridian
# ships only synthetic sample data (sample.mmdb); real data has its own licence and must be
# fetched by whoever runs the server. Tests never run this script and never download.
#
#   geoip/install-real-db.sh maxmind [--edition ID] [--dir DIR]
#       MaxMind GeoLite2 (free account) or GeoIP2 (paid) through Debian's `geoipupdate`
#       (apt-get install geoipupdate; Debian contrib). Needs the account id and licence key
#       from https://www.maxmind.com/ in GEOIPUPDATE_ACCOUNT_ID and GEOIPUPDATE_LICENSE_KEY
#       (or GEOIPUPDATE_LICENSE_KEY_FILE). Edition default GeoLite2-City. GeoLite2 EULA.
#   geoip/install-real-db.sh dbip-country|dbip-city [--month YYYY-MM] [--dir DIR]
#       DB-IP "Lite" databases (GeoIP2-compatible layout), CC BY 4.0: attribute
#       "IP Geolocation by DB-IP (https://db-ip.com)" wherever the data is shown.
#   geoip/install-real-db.sh ip-location-db [--dir DIR]
#       ip-location-db's geo-whois-asn-country (flat `country_code` layout; the server
#       derives continents), CC BY 4.0, attribution to the NRO and RIRs (see README.md).
#   geoip/install-real-db.sh file PATH.mmdb [--dir DIR]
#       Installs a database you already have.
#
# DIR defaults to /var/lib/GeoIP. Files are replaced atomically (a reload never reads half
# a file). At the end the script prints the `geoip:` config section to use.

set -eu

usage() {
    sed -n '4,23p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

die() {
    echo "install-real-db.sh: $*" >&2
    exit 1
}

[ $# -ge 1 ] || usage
source=$1
shift
dir=/var/lib/GeoIP
edition=GeoLite2-City
month=$(date -u +%Y-%m)
file=
if [ "$source" = file ]; then
    [ $# -ge 1 ] || usage
    file=$1
    shift
fi
while [ $# -gt 0 ]; do
    case $1 in
    --dir) dir=${2:?}; shift 2 ;;
    --edition) edition=${2:?}; shift 2 ;;
    --month) month=${2:?}; shift 2 ;;
    *) usage ;;
    esac
done

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

fetch() { # URL OUTPUT
    if command -v curl >/dev/null; then
        curl -fsSL --retry 3 -o "$2" "$1"
    elif command -v wget >/dev/null; then
        wget -q -O "$2" "$1"
    else
        die "needs curl or wget"
    fi
}

# Every MaxMind DB ends with its metadata, introduced by "\xab\xcd\xefMaxMind.com".
check_mmdb() {
    LC_ALL=C grep -q 'MaxMind\.com' "$1" || die "$1 is not a MaxMind DB file"
}

# Moves a checked file into $dir under its final name.
install_mmdb() { # SOURCE NAME
    check_mmdb "$1"
    chmod 0644 "$1"
    mv -f "$1" "$dir/$2"
    installed="$dir/$2"
}

case $source in
maxmind)
    command -v geoipupdate >/dev/null ||
        die "geoipupdate missing: apt-get install geoipupdate (Debian contrib)"
    : "${GEOIPUPDATE_ACCOUNT_ID:?set GEOIPUPDATE_ACCOUNT_ID to your MaxMind account id}"
    key=${GEOIPUPDATE_LICENSE_KEY:-}
    if [ -z "$key" ] && [ -n "${GEOIPUPDATE_LICENSE_KEY_FILE:-}" ]; then
        key=$(cat "$GEOIPUPDATE_LICENSE_KEY_FILE")
    fi
    [ -n "$key" ] || die "set GEOIPUPDATE_LICENSE_KEY or GEOIPUPDATE_LICENSE_KEY_FILE"
    # A private config file: the key never appears on a command line (ps).
    umask 077
    cat >"$tmp/GeoIP.conf" <<EOF
AccountID $GEOIPUPDATE_ACCOUNT_ID
LicenseKey $key
EditionIDs $edition
EOF
    umask 022
    geoipupdate -f "$tmp/GeoIP.conf" -d "$tmp"
    install_mmdb "$tmp/$edition.mmdb" "$edition.mmdb"
    note="GeoLite2/GeoIP2 data: MaxMind's licence (EULA) applies. Refresh it regularly, e.g. with this script from cron."
    ;;
dbip-country | dbip-city)
    kind=${source#dbip-}
    fetch "https://download.db-ip.com/free/dbip-$kind-lite-$month.mmdb.gz" "$tmp/db.mmdb.gz"
    gzip -d "$tmp/db.mmdb.gz"
    install_mmdb "$tmp/db.mmdb" "dbip-$kind-lite.mmdb"
    note="DB-IP Lite, CC BY 4.0: show \"IP Geolocation by DB-IP (https://db-ip.com)\"."
    ;;
ip-location-db)
    fetch "https://cdn.jsdelivr.net/npm/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb" \
        "$tmp/db.mmdb"
    install_mmdb "$tmp/db.mmdb" geo-whois-asn-country.mmdb
    note="CC BY 4.0: data from the NRO and the RIRs (https://www.nro.net/), compiled by https://github.com/sapics/ip-location-db."
    ;;
file)
    [ -r "$file" ] || die "$file: cannot read"
    cp "$file" "$tmp/db.mmdb"
    install_mmdb "$tmp/db.mmdb" "$(basename "$file")"
    note="Check the licence of $(basename "$file") before you ship or show its data."
    ;;
*)
    usage
    ;;
esac

if command -v mmdblookup >/dev/null; then
    echo "sanity lookup of 8.8.8.8:"
    mmdblookup --file "$installed" --ip 8.8.8.8 country iso_code 2>/dev/null ||
        mmdblookup --file "$installed" --ip 8.8.8.8 country_code 2>/dev/null || true
fi
echo "installed $installed"
echo "licence: $note"
echo "config:  geoip: { database: $installed }"
