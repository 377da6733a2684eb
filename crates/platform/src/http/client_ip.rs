//! The client's IP address, for rate limits, sessions and audit events.
//!
//! `X-Forwarded-For` is written by whoever sent the request, so it is believed only as far
//! as the hops that appended to it are proxies the operator listed in `TRUSTED_PROXIES`:
//! walking the header from the right, the first address that is not a trusted proxy is the
//! client. Without trusted proxies the TCP peer is the client, whatever the header says.

use crate::config::{VarDoc, Vars};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use ipnet::IpNet;
use std::convert::Infallible;
use std::fmt;
use std::future::{Ready, ready};
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

pub const VARS: &[VarDoc] = &[VarDoc {
    name: "TRUSTED_PROXIES",
    default: Some("(none)"),
    doc: "Comma-separated IPs or CIDR ranges of proxies (the gateway, a load balancer) whose `X-Forwarded-For` is believed.",
}];

/// The proxies whose `X-Forwarded-For` entries are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl FromStr for TrustedProxies {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{p:?} is not an IP address or CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl TrustedProxies {
    pub fn from_vars(v: &mut Vars<'_>) -> Self {
        v.or("TRUSTED_PROXIES", TrustedProxies::default())
    }

    fn trusts(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client address given the TCP peer and the `X-Forwarded-For` header.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        // `::ffff:a.b.c.d` (a dual-stack listener, or a proxy writing mapped addresses) is
        // the IPv4 client it maps; left mapped, it would miss IPv4 trust ranges and put
        // every IPv4 client in one IPv6 /64 budget.
        let peer = peer.to_canonical();
        if !self.trusts(&peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_for.unwrap_or("").rsplit(',').map(str::trim) {
            let Ok(ip) = hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) else {
                // A malformed entry was written by someone untrusted: stop believing here.
                break;
            };
            client = ip;
            if !self.trusts(&ip) {
                break;
            }
        }
        client
    }
}

/// The caller's IP address as an extractor; never fails (an unknown peer is `0.0.0.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequest for ClientIp {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let peer = req
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        // A proxy may append its own header line instead of extending the client's; both
        // together, in order, are the chain.
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        let forwarded = forwarded.join(",");
        let forwarded = (!forwarded.is_empty()).then_some(forwarded.as_str());
        let ip = match req.app_data::<web::Data<TrustedProxies>>() {
            Some(trusted) => trusted.client_ip(peer, forwarded),
            None => peer,
        };
        ready(Ok(ClientIp(ip.to_canonical())))
    }
}

impl ClientIp {
    /// The client as a rate-limit subject: the address itself for IPv4, the /64 for IPv6,
    /// since one subscriber usually holds a whole /64 and could otherwise rotate through it.
    pub fn subscriber(&self) -> String {
        match self.0.to_canonical() {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

impl fmt::Display for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_the_header_says() {
        let t: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        assert_eq!(
            t.client_ip(ip("203.0.113.9"), Some("1.2.3.4")),
            ip("203.0.113.9")
        );
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("10.0.0.1"), Some("1.2.3.4")),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn walks_trusted_hops_from_the_right() {
        let t: TrustedProxies = "10.0.0.0/8, 127.0.0.1".parse().unwrap();
        // A client-forged left entry is ignored: the first untrusted hop from the right wins.
        assert_eq!(
            t.client_ip(ip("127.0.0.1"), Some("6.6.6.6, 198.51.100.7, 10.1.2.3")),
            ip("198.51.100.7")
        );
        assert_eq!(t.client_ip(ip("10.0.0.2"), None), ip("10.0.0.2"));
        assert_eq!(
            t.client_ip(ip("10.0.0.2"), Some("garbage, 10.0.0.3")),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn parse_errors_name_the_entry() {
        assert!(
            "10.0.0.0/8,nope"
                .parse::<TrustedProxies>()
                .unwrap_err()
                .contains("nope")
        );
        assert_eq!(
            "10.0.0.0/8,::1"
                .parse::<TrustedProxies>()
                .unwrap()
                .to_string(),
            "10.0.0.0/8,::1/128"
        );
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64() {
        let a = super::ClientIp(ip("2001:db8:1:2:aaaa::1")).subscriber();
        let b = super::ClientIp(ip("2001:db8:1:2:ffff::9")).subscriber();
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(super::ClientIp(ip("192.0.2.7")).subscriber(), "192.0.2.7");
    }

    #[test]
    fn ipv4_mapped_addresses_count_as_ipv4() {
        let trusted: super::TrustedProxies = "10.0.0.0/8".parse().unwrap();
        assert_eq!(
            trusted.client_ip(ip("::ffff:10.1.2.3"), Some("::ffff:203.0.113.9")),
            ip("203.0.113.9")
        );
        assert_eq!(
            super::ClientIp(ip("::ffff:192.0.2.7")).subscriber(),
            "192.0.2.7"
        );
    }
}
