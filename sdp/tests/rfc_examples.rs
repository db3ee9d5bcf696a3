//! The example session descriptions of RFC 8866 and RFC 8829, typed in from the RFC text.
//!
//! The RFCs indent the examples, separate media sections with blank lines and fold long
//! lines (`a=fingerprint`, `a=candidate`) for the page width; here the indentation and blank
//! lines are dropped and folded lines are joined (a fold after a `:` of a fingerprint joins
//! without a space, any other fold with one space). Lines end in CRLF. RFC 8866 also gives
//! fragments (a `c=` line, `t=`/`r=`/`z=` lines, one example per attribute); those are put
//! into the session lines of the RFC 8866 §5 example, and the `;` comments the RFC writes
//! after some `t=`/`r=`/`z=` lines are not part of the SDP and are left out.
//!
//! Each example must parse, write back byte for byte, and parse(write(parse(x))) == parse(x).

use std::net::IpAddr;

use weft_sdp::{
    Address, AddressType, Attribute, BandwidthType, CandidateTransport, CandidateType, Direction,
    Formats, HashFunction, MediaDescription, MediaKind, RidDirection, SessionDescription, Setup,
};

/// Joins the lines with CRLF, each line terminated.
macro_rules! sdp {
    ($($line:literal),* $(,)?) => { concat!($($line, "\r\n"),*) };
}

// ---------------------------------------------------------------------------------------
// RFC 8866
// ---------------------------------------------------------------------------------------

/// RFC 8866 §5: the example SDP description.
const RFC8866_S5: &str = sdp!(
    "v=0",
    "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1",
    "s=Call to John Smith",
    "i=SDP Offer #1",
    "u=http://www.jdoe.example.com/home.html",
    "e=Jane Doe <jane@jdoe.example.com>",
    "p=+1 617 555-6011",
    "c=IN IP4 198.51.100.1",
    "t=0 0",
    "m=audio 49170 RTP/AVP 0",
    "m=audio 49180 RTP/AVP 0",
    "m=video 51372 RTP/AVP 99",
    "c=IN IP6 2001:db8::2",
    "a=rtpmap:99 h263-1998/90000",
);

/// RFC 8866 §6.7: `a=sendrecv` applies to the first audio section, the session-level
/// `a=inactive` to the others.
const RFC8866_S6_7: &str = sdp!(
    "v=0",
    "o=jdoe 3724395000 3724395001 IN IP6 2001:db8::1",
    "s=-",
    "c=IN IP6 2001:db8::1",
    "t=0 0",
    "a=inactive",
    "m=audio 49170 RTP/AVP 0",
    "a=sendrecv",
    "m=audio 49180 RTP/AVP 0",
    "m=video 51372 RTP/AVP 99",
    "a=rtpmap:99 h263-1998/90000",
);

/// RFC 8866 §5.6 (`e=` forms), §5.7 (multicast `c=` with TTL and number of addresses),
/// §5.8 (`b=X-YZ:128`), §5.9 (two active intervals), §5.14 (`m=` with a number of ports and
/// the `c=` lines that go with it).
const RFC8866_S5_FRAGMENTS: &str = sdp!(
    "v=0",
    "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1",
    "s=Call to John Smith",
    "e=j.doe@example.com (Jane Doe)",
    "e=Jane Doe <j.doe@example.com>",
    "p=+1 617 555-6011",
    "c=IN IP4 233.252.0.1/127",
    "b=X-YZ:128",
    "t=3724394400 3724398000",
    "t=3724484400 3724488000",
    "m=video 49170/2 RTP/AVP 31",
    "c=IN IP4 233.252.0.1/127/2",
    "m=video 49170/2 RTP/AVP 31",
    "c=IN IP6 ff00::db8:0:101",
    "c=IN IP6 ff00::db8:0:102",
    "m=video 49170/2 RTP/AVP 31",
    "c=IN IP6 ff00::db8:0:101/3",
);

/// RFC 8866 §5.10 and §5.11: a repeated session with a time zone adjustment, and the
/// compact form of the same repeat.
const RFC8866_S5_10_REPEATS: &str = sdp!(
    "v=0",
    "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1",
    "s=Call to John Smith",
    "c=IN IP4 198.51.100.1",
    "t=3724394400 3754123200",
    "r=604800 3600 0 90000",
    "z=3730928400 -1h 3749680800 0",
    "t=3724394400 3730536000",
    "r=7d 1h 0 25h",
    "m=audio 49170 RTP/AVP 0",
);

/// RFC 8866 §6: the example of every attribute, session-level ones before the first `m=`,
/// and the §6.6 `a=rtpmap` examples as their own sections.
const RFC8866_S6_ATTRIBUTES: &str = sdp!(
    "v=0",
    "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1",
    "s=Call to John Smith",
    "c=IN IP4 198.51.100.1",
    "t=0 0",
    "a=cat:foo.bar",
    "a=keywds:SDP session description protocol",
    "a=tool:foobar V3.2",
    "a=type:moderated",
    "a=charset:ISO-8859-1",
    "a=sdplang:fr",
    "a=lang:de",
    "a=recvonly",
    "m=audio 49232 RTP/AVP 0",
    "a=ptime:20",
    "a=maxptime:20",
    "a=sendrecv",
    "m=audio 49232 RTP/AVP 98",
    "a=rtpmap:98 L16/16000/2",
    "a=sendonly",
    "m=audio 49230 RTP/AVP 96 97 98",
    "a=rtpmap:96 L8/8000",
    "a=rtpmap:97 L16/8000",
    "a=rtpmap:98 L16/11025/2",
    "a=inactive",
    "m=video 51372 RTP/AVP 96",
    "a=orient:portrait",
    "a=framerate:60",
    "a=quality:10",
    "a=fmtp:96 profile-level-id=42e016;max-mbps=108000;max-fs=3600",
);

// ---------------------------------------------------------------------------------------
// RFC 8829 §7.1, Simple Example
// ---------------------------------------------------------------------------------------

const RFC8829_OFFER_A1: &str = sdp!(
    "v=0",
    "o=- 4962303333179871722 1 IN IP4 0.0.0.0",
    "s=-",
    "t=0 0",
    "a=ice-options:trickle ice2",
    "a=group:BUNDLE a1 v1",
    "a=group:LS a1 v1",
    "m=audio 10100 UDP/TLS/RTP/SAVPF 96 0 8 97 98",
    "c=IN IP4 203.0.113.100",
    "a=mid:a1",
    "a=sendrecv",
    "a=rtpmap:96 opus/48000/2",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:97 telephone-event/8000",
    "a=rtpmap:98 telephone-event/48000",
    "a=fmtp:97 0-15",
    "a=fmtp:98 0-15",
    "a=maxptime:120",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=msid:47017fee-b6c1-4162-929c-a25110252400",
    "a=ice-ufrag:ETEn",
    "a=ice-pwd:OtSK0WpNtpUjkY4+86js7ZQl",
    "a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2",
    "a=setup:actpass",
    "a=tls-id:91bbf309c0990a6bec11e38ba2933cee",
    "a=rtcp:10101 IN IP4 203.0.113.100",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=candidate:1 1 udp 2113929471 203.0.113.100 10100 typ host",
    "a=candidate:1 2 udp 2113929470 203.0.113.100 10101 typ host",
    "a=end-of-candidates",
    "m=video 10102 UDP/TLS/RTP/SAVPF 100 101 102 103",
    "c=IN IP4 203.0.113.100",
    "a=mid:v1",
    "a=sendrecv",
    "a=rtpmap:100 VP8/90000",
    "a=rtpmap:101 H264/90000",
    "a=fmtp:101 packetization-mode=1;profile-level-id=42e01f",
    "a=rtpmap:102 rtx/90000",
    "a=fmtp:102 apt=100",
    "a=rtpmap:103 rtx/90000",
    "a=fmtp:103 apt=101",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "a=rtcp-fb:100 ccm fir",
    "a=rtcp-fb:100 nack",
    "a=rtcp-fb:100 nack pli",
    "a=msid:47017fee-b6c1-4162-929c-a25110252400",
    "a=ice-ufrag:BGKk",
    "a=ice-pwd:mqyWsAjvtKwTGnvhPztQ9mIf",
    "a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2",
    "a=setup:actpass",
    "a=tls-id:91bbf309c0990a6bec11e38ba2933cee",
    "a=rtcp:10103 IN IP4 203.0.113.100",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=candidate:1 1 udp 2113929471 203.0.113.100 10102 typ host",
    "a=candidate:1 2 udp 2113929470 203.0.113.100 10103 typ host",
    "a=end-of-candidates",
);

const RFC8829_ANSWER_A1: &str = sdp!(
    "v=0",
    "o=- 6729291447651054566 1 IN IP4 0.0.0.0",
    "s=-",
    "t=0 0",
    "a=ice-options:trickle ice2",
    "a=group:BUNDLE a1 v1",
    "a=group:LS a1 v1",
    "m=audio 10200 UDP/TLS/RTP/SAVPF 96 0 8 97 98",
    "c=IN IP4 203.0.113.200",
    "a=mid:a1",
    "a=sendrecv",
    "a=rtpmap:96 opus/48000/2",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:97 telephone-event/8000",
    "a=rtpmap:98 telephone-event/48000",
    "a=fmtp:97 0-15",
    "a=fmtp:98 0-15",
    "a=maxptime:120",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=msid:61317484-2ed4-49d7-9eb7-1414322a7aae",
    "a=ice-ufrag:6sFv",
    "a=ice-pwd:cOTZKZNVlO9RSGsEGM63JXT2",
    "a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08",
    "a=setup:active",
    "a=tls-id:eec3392ab83e11ceb6a0990c903fbb19",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=candidate:1 1 udp 2113929471 203.0.113.200 10200 typ host",
    "a=end-of-candidates",
    "m=video 10200 UDP/TLS/RTP/SAVPF 100 101 102 103",
    "c=IN IP4 203.0.113.200",
    "a=mid:v1",
    "a=sendrecv",
    "a=rtpmap:100 VP8/90000",
    "a=rtpmap:101 H264/90000",
    "a=fmtp:101 packetization-mode=1;profile-level-id=42e01f",
    "a=rtpmap:102 rtx/90000",
    "a=fmtp:102 apt=100",
    "a=rtpmap:103 rtx/90000",
    "a=fmtp:103 apt=101",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "a=rtcp-fb:100 ccm fir",
    "a=rtcp-fb:100 nack",
    "a=rtcp-fb:100 nack pli",
    "a=msid:61317484-2ed4-49d7-9eb7-1414322a7aae",
);

// ---------------------------------------------------------------------------------------
// RFC 8829 §7.2, Detailed Example
// ---------------------------------------------------------------------------------------

const RFC8829_OFFER_B1: &str = sdp!(
    "v=0",
    "o=- 4962303333179871723 1 IN IP4 0.0.0.0",
    "s=-",
    "t=0 0",
    "a=ice-options:trickle ice2",
    "a=group:BUNDLE a1 d1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 96 0 8 97 98",
    "c=IN IP4 0.0.0.0",
    "a=mid:a1",
    "a=sendrecv",
    "a=rtpmap:96 opus/48000/2",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:97 telephone-event/8000",
    "a=rtpmap:98 telephone-event/48000",
    "a=fmtp:97 0-15",
    "a=fmtp:98 0-15",
    "a=maxptime:120",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=msid:57017fee-b6c1-4162-929c-a25110252400",
    "a=ice-ufrag:ATEn",
    "a=ice-pwd:AtSK0WpNtpUjkY4+86js7ZQl",
    "a=fingerprint:sha-256 29:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2",
    "a=setup:actpass",
    "a=tls-id:17f0f4ba8a5f1213faca591b58ba52a7",
    "a=rtcp-mux",
    "a=rtcp-mux-only",
    "a=rtcp-rsize",
    "m=application 0 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 0.0.0.0",
    "a=mid:d1",
    "a=sctp-port:5000",
    "a=max-message-size:65536",
    "a=bundle-only",
);

/// The trickled candidates of the Detailed Example (`attr` of |offer-B1-candidate-1..3|
/// and |answer-B1-candidate-1..3|), unfolded.
const RFC8829_B1_CANDIDATES: [&str; 6] = [
    "candidate:1 1 udp 2113929471 203.0.113.100 10100 typ host",
    "candidate:1 1 udp 1845494015 198.51.100.100 11100 typ srflx raddr 203.0.113.100 rport 10100",
    "candidate:1 1 udp 255 192.0.2.100 12100 typ relay raddr 198.51.100.100 rport 11100",
    "candidate:1 1 udp 2113929471 203.0.113.200 10200 typ host",
    "candidate:1 1 udp 1845494015 198.51.100.200 11200 typ srflx raddr 203.0.113.200 rport 10200",
    "candidate:1 1 udp 255 192.0.2.200 12200 typ relay raddr 198.51.100.200 rport 11200",
];

const RFC8829_ANSWER_B1: &str = sdp!(
    "v=0",
    "o=- 7729291447651054566 1 IN IP4 0.0.0.0",
    "s=-",
    "t=0 0",
    "a=ice-options:trickle ice2",
    "a=group:BUNDLE a1 d1",
    "m=audio 9 UDP/TLS/RTP/SAVPF 96 0 8 97 98",
    "c=IN IP4 0.0.0.0",
    "a=mid:a1",
    "a=sendrecv",
    "a=rtpmap:96 opus/48000/2",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:97 telephone-event/8000",
    "a=rtpmap:98 telephone-event/48000",
    "a=fmtp:97 0-15",
    "a=fmtp:98 0-15",
    "a=maxptime:120",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=msid:71317484-2ed4-49d7-9eb7-1414322a7aae",
    "a=ice-ufrag:7sFv",
    "a=ice-pwd:dOTZKZNVlO9RSGsEGM63JXT2",
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08",
    "a=setup:active",
    "a=tls-id:7a25ab85b195acaf3121f5a8ab4f0f71",
    "a=rtcp-mux",
    "a=rtcp-mux-only",
    "a=rtcp-rsize",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 0.0.0.0",
    "a=mid:d1",
    "a=sctp-port:5000",
    "a=max-message-size:65536",
);

const RFC8829_OFFER_B2: &str = sdp!(
    "v=0",
    "o=- 7729291447651054566 2 IN IP4 0.0.0.0",
    "s=-",
    "t=0 0",
    "a=ice-options:trickle ice2",
    "a=group:BUNDLE a1 d1 v1 v2",
    "a=group:LS a1 v1",
    "m=audio 12200 UDP/TLS/RTP/SAVPF 96 0 8 97 98",
    "c=IN IP4 192.0.2.200",
    "a=mid:a1",
    "a=sendrecv",
    "a=rtpmap:96 opus/48000/2",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:97 telephone-event/8000",
    "a=rtpmap:98 telephone-event/48000",
    "a=fmtp:97 0-15",
    "a=fmtp:98 0-15",
    "a=maxptime:120",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=msid:71317484-2ed4-49d7-9eb7-1414322a7aae",
    "a=ice-ufrag:7sFv",
    "a=ice-pwd:dOTZKZNVlO9RSGsEGM63JXT2",
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08",
    "a=setup:actpass",
    "a=tls-id:7a25ab85b195acaf3121f5a8ab4f0f71",
    "a=rtcp-mux",
    "a=rtcp-mux-only",
    "a=rtcp-rsize",
    "a=candidate:1 1 udp 2113929471 203.0.113.200 10200 typ host",
    "a=candidate:1 1 udp 1845494015 198.51.100.200 11200 typ srflx raddr 203.0.113.200 rport 10200",
    "a=candidate:1 1 udp 255 192.0.2.200 12200 typ relay raddr 198.51.100.200 rport 11200",
    "a=end-of-candidates",
    "m=application 12200 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 192.0.2.200",
    "a=mid:d1",
    "a=sctp-port:5000",
    "a=max-message-size:65536",
    "m=video 12200 UDP/TLS/RTP/SAVPF 100 101 102 103 104",
    "c=IN IP4 192.0.2.200",
    "a=mid:v1",
    "a=sendrecv",
    "a=rtpmap:100 VP8/90000",
    "a=rtpmap:101 H264/90000",
    "a=fmtp:101 packetization-mode=1;profile-level-id=42e01f",
    "a=rtpmap:102 rtx/90000",
    "a=fmtp:102 apt=100",
    "a=rtpmap:103 rtx/90000",
    "a=fmtp:103 apt=101",
    "a=rtpmap:104 flexfec/90000",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "a=rtcp-fb:100 ccm fir",
    "a=rtcp-fb:100 nack",
    "a=rtcp-fb:100 nack pli",
    "a=msid:71317484-2ed4-49d7-9eb7-1414322a7aae",
    "a=rid:1 send",
    "a=rid:2 send",
    "a=rid:3 send",
    "a=simulcast:send 1;2;3",
    "m=video 12200 UDP/TLS/RTP/SAVPF 100 101 102 103 104",
    "c=IN IP4 192.0.2.200",
    "a=mid:v2",
    "a=sendrecv",
    "a=rtpmap:100 VP8/90000",
    "a=rtpmap:101 H264/90000",
    "a=fmtp:101 packetization-mode=1;profile-level-id=42e01f",
    "a=rtpmap:102 rtx/90000",
    "a=fmtp:102 apt=100",
    "a=rtpmap:103 rtx/90000",
    "a=fmtp:103 apt=101",
    "a=rtpmap:104 flexfec/90000",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "a=rtcp-fb:100 ccm fir",
    "a=rtcp-fb:100 nack",
    "a=rtcp-fb:100 nack pli",
    "a=msid:81317484-2ed4-49d7-9eb7-1414322a7aae",
);

const RFC8829_ANSWER_B2: &str = sdp!(
    "v=0",
    "o=- 4962303333179871723 2 IN IP4 0.0.0.0",
    "s=-",
    "t=0 0",
    "a=ice-options:trickle ice2",
    "a=group:BUNDLE a1 d1 v1 v2",
    "a=group:LS a1 v1",
    "m=audio 12100 UDP/TLS/RTP/SAVPF 96 0 8 97 98",
    "c=IN IP4 192.0.2.100",
    "a=mid:a1",
    "a=sendrecv",
    "a=rtpmap:96 opus/48000/2",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:97 telephone-event/8000",
    "a=rtpmap:98 telephone-event/48000",
    "a=fmtp:97 0-15",
    "a=fmtp:98 0-15",
    "a=maxptime:120",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=msid:57017fee-b6c1-4162-929c-a25110252400",
    "a=ice-ufrag:ATEn",
    "a=ice-pwd:AtSK0WpNtpUjkY4+86js7ZQl",
    "a=fingerprint:sha-256 29:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2",
    "a=setup:passive",
    "a=tls-id:17f0f4ba8a5f1213faca591b58ba52a7",
    "a=rtcp-mux",
    "a=rtcp-mux-only",
    "a=rtcp-rsize",
    "a=candidate:1 1 udp 2113929471 203.0.113.100 10100 typ host",
    "a=candidate:1 1 udp 1845494015 198.51.100.100 11100 typ srflx raddr 203.0.113.100 rport 10100",
    "a=candidate:1 1 udp 255 192.0.2.100 12100 typ relay raddr 198.51.100.100 rport 11100",
    "a=end-of-candidates",
    "m=application 12100 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 192.0.2.100",
    "a=mid:d1",
    "a=sctp-port:5000",
    "a=max-message-size:65536",
    "m=video 12100 UDP/TLS/RTP/SAVPF 100 101 102 103",
    "c=IN IP4 192.0.2.100",
    "a=mid:v1",
    "a=recvonly",
    "a=rtpmap:100 VP8/90000",
    "a=rtpmap:101 H264/90000",
    "a=fmtp:101 packetization-mode=1;profile-level-id=42e01f",
    "a=rtpmap:102 rtx/90000",
    "a=fmtp:102 apt=100",
    "a=rtpmap:103 rtx/90000",
    "a=fmtp:103 apt=101",
    "a=imageattr:100 recv [x=[48:1920],y=[48:1080],q=1.0]",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "a=rtcp-fb:100 ccm fir",
    "a=rtcp-fb:100 nack",
    "a=rtcp-fb:100 nack pli",
    "m=video 12100 UDP/TLS/RTP/SAVPF 100 101 102 103",
    "c=IN IP4 192.0.2.100",
    "a=mid:v2",
    "a=recvonly",
    "a=rtpmap:100 VP8/90000",
    "a=rtpmap:101 H264/90000",
    "a=fmtp:101 packetization-mode=1;profile-level-id=42e01f",
    "a=rtpmap:102 rtx/90000",
    "a=fmtp:102 apt=100",
    "a=rtpmap:103 rtx/90000",
    "a=fmtp:103 apt=101",
    "a=imageattr:100 recv [x=[48:1920],y=[48:1080],q=1.0]",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "a=rtcp-fb:100 ccm fir",
    "a=rtcp-fb:100 nack",
    "a=rtcp-fb:100 nack pli",
);

const EXAMPLES: [(&str, &str); 11] = [
    ("rfc8866_s5", RFC8866_S5),
    ("rfc8866_s6_7", RFC8866_S6_7),
    ("rfc8866_s5_fragments", RFC8866_S5_FRAGMENTS),
    ("rfc8866_s5_10_repeats", RFC8866_S5_10_REPEATS),
    ("rfc8866_s6_attributes", RFC8866_S6_ATTRIBUTES),
    ("rfc8829_offer_a1", RFC8829_OFFER_A1),
    ("rfc8829_answer_a1", RFC8829_ANSWER_A1),
    ("rfc8829_offer_b1", RFC8829_OFFER_B1),
    ("rfc8829_answer_b1", RFC8829_ANSWER_B1),
    ("rfc8829_offer_b2", RFC8829_OFFER_B2),
    ("rfc8829_answer_b2", RFC8829_ANSWER_B2),
];

fn parse(name: &str, text: &'static str) -> SessionDescription<'static> {
    weft_sdp::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn mids<'s>(sd: &'s SessionDescription<'_>) -> Vec<Option<&'s str>> {
    sd.media.iter().map(MediaDescription::mid).collect()
}

fn ip(s: &str) -> Address<'static> {
    Address::Ip(s.parse::<IpAddr>().unwrap())
}

/// The value of an attribute kept verbatim, `Some(None)` for a flag.
fn other<'s>(attrs: &'s [Attribute<'_>], name: &str) -> Vec<Option<&'s str>> {
    attrs
        .iter()
        .filter_map(|a| match a {
            Attribute::Other { name: n, value } if n == name => Some(value.as_deref()),
            _ => None,
        })
        .collect()
}

/// Payload type, encoding name, clock rate and channels of a codec.
type CodecSummary = (u8, Option<String>, Option<u32>, Option<u16>);

fn codec_names(m: &MediaDescription<'_>) -> Vec<CodecSummary> {
    m.codecs()
        .map(|c| {
            (
                c.payload_type,
                c.name().map(str::to_owned),
                c.clock_rate(),
                c.channels(),
            )
        })
        .collect()
}

fn bundle<'s>(sd: &'s SessionDescription<'_>) -> Vec<Vec<&'s str>> {
    sd.bundle_groups()
        .map(|g| g.mids.iter().map(|m| m.as_ref()).collect())
        .collect()
}

#[test]
fn every_example_round_trips() {
    for (name, text) in EXAMPLES {
        assert!(!text.contains("\n\n") && !text.contains(" \r\n"), "{name}");
        let sd = parse(name, text);
        let written = sd.to_sdp_string();
        let again = weft_sdp::parse(&written).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again, sd, "{name}: parse(write(parse(x))) == parse(x)");
        // These examples are already in the canonical form the writer produces.
        assert_eq!(written, text, "{name}: written back byte for byte");
        let lf = text.replace("\r\n", "\n");
        assert_eq!(weft_sdp::parse(&lf).unwrap(), sd, "{name}: LF endings");
    }
}

#[test]
fn rfc8866_s5_example() {
    let sd = parse("rfc8866_s5", RFC8866_S5);
    assert_eq!(sd.origin.username, "jdoe");
    assert_eq!(sd.origin.session_id, 3724394400);
    assert_eq!(sd.origin.session_version, 3724394405);
    assert_eq!(sd.origin.address, ip("198.51.100.1"));
    assert_eq!(sd.session_name, "Call to John Smith");
    assert_eq!(sd.information.as_deref(), Some("SDP Offer #1"));
    assert_eq!(
        sd.uri.as_deref(),
        Some("http://www.jdoe.example.com/home.html")
    );
    assert_eq!(sd.emails, ["Jane Doe <jane@jdoe.example.com>"]);
    assert_eq!(sd.phones, ["+1 617 555-6011"]);
    let c = sd.connection.as_ref().unwrap();
    assert_eq!(
        (c.address_type.clone(), c.address.clone()),
        (AddressType::Ip4, ip("198.51.100.1"))
    );
    assert_eq!(sd.times.len(), 1);
    assert_eq!((sd.times[0].start, sd.times[0].stop), (0, 0));

    let kinds: Vec<_> = sd.media.iter().map(|m| (m.kind.clone(), m.port)).collect();
    assert_eq!(
        kinds,
        [
            (MediaKind::Audio, 49170),
            (MediaKind::Audio, 49180),
            (MediaKind::Video, 51372)
        ]
    );
    // Static payload type 0 needs no a=rtpmap (RFC 3551 §6).
    assert_eq!(
        codec_names(&sd.media[0]),
        [(0, Some("PCMU".into()), Some(8000), Some(1))]
    );
    assert!(sd.media[0].connections.is_empty());
    let video = &sd.media[2];
    assert_eq!(video.connections.len(), 1);
    assert_eq!(video.connections[0].address_type, AddressType::Ip6);
    assert_eq!(video.connections[0].address, ip("2001:db8::2"));
    assert_eq!(
        codec_names(video),
        [(99, Some("h263-1998".into()), Some(90000), None)]
    );
}

#[test]
fn rfc8866_s6_7_direction_example() {
    let sd = parse("rfc8866_s6_7", RFC8866_S6_7);
    assert_eq!(sd.origin.address_type, AddressType::Ip6);
    assert_eq!(sd.origin.address, ip("2001:db8::1"));
    let directions: Vec<_> = sd.media.iter().map(|m| sd.direction(m)).collect();
    assert_eq!(
        directions,
        [
            Direction::SendRecv,
            Direction::Inactive,
            Direction::Inactive
        ]
    );
    assert_eq!(sd.media[1].own_direction(), None);
}

#[test]
fn rfc8866_s5_fragments() {
    let sd = parse("rfc8866_s5_fragments", RFC8866_S5_FRAGMENTS);
    assert_eq!(
        sd.emails,
        [
            "j.doe@example.com (Jane Doe)",
            "Jane Doe <j.doe@example.com>"
        ]
    );
    let c = sd.connection.as_ref().unwrap();
    assert_eq!(
        (c.address.clone(), c.ttl, c.count),
        (ip("233.252.0.1"), Some(127), None)
    );
    assert_eq!(sd.bandwidths.len(), 1);
    assert_eq!(sd.bandwidths[0].kind, BandwidthType::Other("X-YZ".into()));
    assert_eq!(sd.bandwidths[0].value, 128);
    let times: Vec<_> = sd.times.iter().map(|t| (t.start, t.stop)).collect();
    assert_eq!(times, [(3724394400, 3724398000), (3724484400, 3724488000)]);

    for m in &sd.media {
        assert_eq!((m.port, m.port_count), (49170, Some(2)));
        assert_eq!(m.formats, Formats::Rtp(vec![31]));
        assert_eq!(m.codecs().next().unwrap().name(), Some("H261"));
    }
    // IP4 multicast: address/ttl/number of addresses.
    let c = &sd.media[0].connections[0];
    assert_eq!(
        (c.address.clone(), c.ttl, c.count),
        (ip("233.252.0.1"), Some(127), Some(2))
    );
    // Two c= lines in one section.
    let addrs: Vec<_> = sd.media[1]
        .connections
        .iter()
        .map(|c| c.address.clone())
        .collect();
    assert_eq!(addrs, [ip("ff00::db8:0:101"), ip("ff00::db8:0:102")]);
    // IP6 multicast has no TTL: the one suffix is the number of addresses.
    let c = &sd.media[2].connections[0];
    assert_eq!(
        (c.address.clone(), c.ttl, c.count),
        (ip("ff00::db8:0:101"), None, Some(3))
    );
}

#[test]
fn rfc8866_s5_10_repeat_times_and_zones() {
    let sd = parse("rfc8866_s5_10_repeats", RFC8866_S5_10_REPEATS);
    assert_eq!(sd.times.len(), 2);
    let t = &sd.times[0];
    assert_eq!((t.start, t.stop), (3724394400, 3754123200));
    assert_eq!(t.repeats, ["604800 3600 0 90000"]);
    assert_eq!(t.zone.as_deref(), Some("3730928400 -1h 3749680800 0"));
    let t = &sd.times[1];
    assert_eq!((t.start, t.stop), (3724394400, 3730536000));
    assert_eq!(t.repeats, ["7d 1h 0 25h"]);
    assert_eq!(t.zone, None);
}

#[test]
fn rfc8866_s6_attribute_examples() {
    let sd = parse("rfc8866_s6_attributes", RFC8866_S6_ATTRIBUTES);
    let session = &sd.attributes;
    assert_eq!(other(session, "cat"), [Some("foo.bar")]);
    assert_eq!(
        other(session, "keywds"),
        [Some("SDP session description protocol")]
    );
    assert_eq!(other(session, "tool"), [Some("foobar V3.2")]);
    assert_eq!(other(session, "type"), [Some("moderated")]);
    assert_eq!(other(session, "charset"), [Some("ISO-8859-1")]);
    assert_eq!(other(session, "sdplang"), [Some("fr")]);
    assert_eq!(other(session, "lang"), [Some("de")]);
    assert!(session.contains(&Attribute::Direction(Direction::RecvOnly)));

    let directions: Vec<_> = sd.media.iter().map(|m| sd.direction(m)).collect();
    assert_eq!(
        directions,
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::Inactive,
            Direction::RecvOnly, // the session-level a=recvonly
        ]
    );
    assert_eq!(sd.media[0].other_attribute("ptime"), Some(Some("20")));
    assert_eq!(sd.media[0].other_attribute("maxptime"), Some(Some("20")));
    assert_eq!(
        codec_names(&sd.media[1]),
        [(98, Some("L16".into()), Some(16000), Some(2))]
    );
    assert_eq!(
        codec_names(&sd.media[2]),
        [
            (96, Some("L8".into()), Some(8000), None),
            (97, Some("L16".into()), Some(8000), None),
            (98, Some("L16".into()), Some(11025), Some(2)),
        ]
    );
    let video = &sd.media[3];
    assert_eq!(video.other_attribute("orient"), Some(Some("portrait")));
    assert_eq!(video.other_attribute("framerate"), Some(Some("60")));
    assert_eq!(video.other_attribute("quality"), Some(Some("10")));
    // RFC 8866 §6.15: no a=rtpmap for 96 here, but the fmtp still belongs to it.
    let codec = video.codec(96).unwrap();
    assert_eq!(codec.name(), None);
    let fmtp = codec.fmtp().unwrap();
    assert_eq!(fmtp.profile_level_id(), Some(0x42e016));
    assert_eq!(fmtp.get("max-mbps"), Some("108000"));
    assert_eq!(fmtp.get("max-fs"), Some("3600"));
}

/// The certificate digest the Simple Example's offer carries, unfolded.
const A1_OFFER_FINGERPRINT: [u8; 32] = [
    0x19, 0xE2, 0x1C, 0x3B, 0x4B, 0x9F, 0x81, 0xE6, 0xB8, 0x5C, 0xF4, 0xA5, 0xA8, 0xD8, 0x73, 0x04,
    0xBB, 0x05, 0x2F, 0x70, 0x9F, 0x04, 0xA9, 0x0E, 0x05, 0xE9, 0x26, 0x33, 0xE8, 0x70, 0x88, 0xA2,
];

#[test]
fn rfc8829_simple_example_offer() {
    let sd = parse("offer-A1", RFC8829_OFFER_A1);
    assert_eq!(sd.origin.session_id, 4962303333179871722);
    assert_eq!(mids(&sd), [Some("a1"), Some("v1")]);
    assert_eq!(bundle(&sd), [["a1", "v1"]]);
    let groups: Vec<_> = sd.groups().map(|g| g.semantics.as_ref()).collect();
    assert_eq!(groups, ["BUNDLE", "LS"]);

    let audio = sd.media_by_mid("a1").unwrap();
    assert_eq!(sd.ice_options(audio), ["trickle", "ice2"]);
    assert_eq!(
        codec_names(audio),
        [
            (96, Some("opus".into()), Some(48000), Some(2)),
            (0, Some("PCMU".into()), Some(8000), None),
            (8, Some("PCMA".into()), Some(8000), None),
            (97, Some("telephone-event".into()), Some(8000), None),
            (98, Some("telephone-event".into()), Some(48000), None),
        ]
    );
    let dtmf = audio.codec(97).unwrap().fmtp().unwrap();
    assert_eq!(dtmf.bare_values().collect::<Vec<_>>(), ["0-15"]);
    assert_eq!(
        audio.extmap_id("urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
        Some(2)
    );
    let msid = audio.msid().unwrap();
    assert_eq!(
        (msid.stream.as_ref(), msid.track.as_deref()),
        ("47017fee-b6c1-4162-929c-a25110252400", None)
    );
    let creds = sd.ice_credentials(audio).unwrap();
    assert_eq!(
        (creds.ufrag, creds.pwd),
        ("ETEn", "OtSK0WpNtpUjkY4+86js7ZQl")
    );
    let fps: Vec<_> = sd.fingerprints(audio).collect();
    assert_eq!(fps.len(), 1);
    assert_eq!(fps[0].hash, HashFunction::Sha256);
    assert_eq!(fps[0].bytes, A1_OFFER_FINGERPRINT);
    assert_eq!(sd.setup(audio), Some(Setup::ActPass));
    assert_eq!(
        other(&audio.attributes, "tls-id"),
        [Some("91bbf309c0990a6bec11e38ba2933cee")]
    );
    assert!(audio.has_rtcp_mux());
    assert!(audio.end_of_candidates());

    let cands: Vec<_> = audio.candidates().collect();
    assert_eq!(cands.len(), 2);
    for (c, (component, priority, port)) in cands
        .iter()
        .zip([(1, 2113929471, 10100), (2, 2113929470, 10101)])
    {
        assert_eq!(c.foundation, "1");
        assert_eq!(c.component, component);
        assert_eq!(c.transport, CandidateTransport::Udp);
        assert_eq!(c.priority, priority);
        assert_eq!(c.address, ip("203.0.113.100"));
        assert_eq!(c.port, port);
        assert_eq!(c.kind, CandidateType::Host);
        assert_eq!((c.related_address.clone(), c.related_port), (None, None));
    }

    let video = sd.media_by_mid("v1").unwrap();
    assert_eq!(video.formats, Formats::Rtp(vec![100, 101, 102, 103]));
    let h264 = video.codec(101).unwrap();
    assert_eq!(h264.name(), Some("H264"));
    let fmtp = h264.fmtp().unwrap();
    assert_eq!(fmtp.profile_level_id(), Some(0x42e01f));
    assert_eq!(fmtp.packetization_mode(), Some(1));
    assert_eq!(video.codec(102).unwrap().apt(), Some(100));
    assert_eq!(video.codec(103).unwrap().apt(), Some(101));
    let fb: Vec<_> = video
        .codec(100)
        .unwrap()
        .feedback()
        .map(|f| (f.kind.as_ref(), f.parameter.as_deref()))
        .collect();
    assert_eq!(
        fb,
        [("ccm", Some("fir")), ("nack", None), ("nack", Some("pli"))]
    );
    assert_eq!(video.codec(101).unwrap().feedback().count(), 0);
    let creds = sd.ice_credentials(video).unwrap();
    assert_eq!(
        (creds.ufrag, creds.pwd),
        ("BGKk", "mqyWsAjvtKwTGnvhPztQ9mIf")
    );
    assert_eq!(
        sd.fingerprints(video).next().unwrap().bytes,
        A1_OFFER_FINGERPRINT
    );
}

#[test]
fn rfc8829_simple_example_answer() {
    let sd = parse("answer-A1", RFC8829_ANSWER_A1);
    assert_eq!(mids(&sd), [Some("a1"), Some("v1")]);
    assert_eq!(bundle(&sd), [["a1", "v1"]]);
    let audio = sd.media_by_mid("a1").unwrap();
    assert_eq!(sd.setup(audio), Some(Setup::Active));
    let creds = sd.ice_credentials(audio).unwrap();
    assert_eq!(
        (creds.ufrag, creds.pwd),
        ("6sFv", "cOTZKZNVlO9RSGsEGM63JXT2")
    );
    let fp = sd.fingerprints(audio).next().unwrap();
    assert_eq!((fp.bytes[0], fp.bytes[31]), (0x6B, 0x08));
    let cands: Vec<_> = audio.candidates().collect();
    assert_eq!(cands.len(), 1);
    assert_eq!(
        (cands[0].address.clone(), cands[0].port),
        (ip("203.0.113.200"), 10200)
    );

    // The bundled video section carries no transport attributes of its own.
    let video = sd.media_by_mid("v1").unwrap();
    assert_eq!(video.port, 10200);
    assert!(sd.ice_credentials(video).is_none());
    assert_eq!(sd.fingerprints(video).count(), 0);
    assert_eq!(sd.setup(video), None);
    assert!(!video.has_rtcp_mux());
    assert_eq!(video.candidates().count(), 0);
}

#[test]
fn rfc8829_detailed_example_first_exchange() {
    let offer = parse("offer-B1", RFC8829_OFFER_B1);
    assert_eq!(mids(&offer), [Some("a1"), Some("d1")]);
    assert_eq!(bundle(&offer), [["a1", "d1"]]);
    let audio = offer.media_by_mid("a1").unwrap();
    assert_eq!(audio.port, 9);
    assert!(audio.attributes.contains(&Attribute::RtcpMuxOnly));
    assert_eq!(offer.fingerprints(audio).next().unwrap().bytes[0], 0x29);
    assert_eq!(audio.candidates().count(), 0);
    let data = offer.media_by_mid("d1").unwrap();
    assert_eq!(data.kind, MediaKind::Application);
    assert_eq!(data.port, 0);
    assert_eq!(data.protocol, "UDP/DTLS/SCTP");
    assert_eq!(
        data.formats,
        Formats::Other(vec!["webrtc-datachannel".into()])
    );
    assert_eq!(data.other_attribute("bundle-only"), Some(None));
    // Port 0 with bundle-only is not a rejected section (RFC 9143 §6).
    assert!(!data.is_rejected());
    assert_eq!(data.sctp_port(), Some(5000));
    assert_eq!(data.max_message_size(), Some(65536));
    assert_eq!(data.codecs().count(), 0);

    let answer = parse("answer-B1", RFC8829_ANSWER_B1);
    assert_eq!(mids(&answer), [Some("a1"), Some("d1")]);
    let audio = answer.media_by_mid("a1").unwrap();
    assert_eq!(answer.setup(audio), Some(Setup::Active));
    let creds = answer.ice_credentials(audio).unwrap();
    assert_eq!(
        (creds.ufrag, creds.pwd),
        ("7sFv", "dOTZKZNVlO9RSGsEGM63JXT2")
    );
    let data = answer.media_by_mid("d1").unwrap();
    assert_eq!(data.port, 9);
    assert!(!data.is_rejected());
    assert_eq!(data.sctp_port(), Some(5000));
}

#[test]
fn rfc8829_detailed_example_trickled_candidates() {
    let kinds = [
        CandidateType::Host,
        CandidateType::ServerReflexive,
        CandidateType::Relay,
    ];
    for (k, text) in RFC8829_B1_CANDIDATES.iter().enumerate() {
        let c = weft_sdp::parse_candidate(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(c.kind, kinds[k % 3], "{text}");
        assert_eq!(c.to_string(), *text, "Display gives the trickle form back");
    }
    let relay = weft_sdp::parse_candidate(RFC8829_B1_CANDIDATES[2]).unwrap();
    assert_eq!(relay.priority, 255);
    assert_eq!(relay.address, ip("192.0.2.100"));
    assert_eq!(relay.related_address, Some(ip("198.51.100.100")));
    assert_eq!(relay.related_port, Some(11100));
}

#[test]
fn rfc8829_detailed_example_second_exchange() {
    let offer = parse("offer-B2", RFC8829_OFFER_B2);
    assert_eq!(offer.origin.session_version, 2);
    assert_eq!(
        mids(&offer),
        [Some("a1"), Some("d1"), Some("v1"), Some("v2")]
    );
    assert_eq!(bundle(&offer), [["a1", "d1", "v1", "v2"]]);
    let audio = offer.media_by_mid("a1").unwrap();
    assert_eq!(audio.connections[0].address, ip("192.0.2.200"));
    let cands: Vec<_> = audio
        .candidates()
        .map(|c| {
            (
                c.kind.clone(),
                c.priority,
                c.port,
                c.related_address.clone(),
                c.related_port,
            )
        })
        .collect();
    assert_eq!(
        cands,
        [
            (CandidateType::Host, 2113929471, 10200, None, None),
            (
                CandidateType::ServerReflexive,
                1845494015,
                11200,
                Some(ip("203.0.113.200")),
                Some(10200)
            ),
            (
                CandidateType::Relay,
                255,
                12200,
                Some(ip("198.51.100.200")),
                Some(11200)
            ),
        ]
    );
    assert!(audio.end_of_candidates());

    // The video sections share the transport of a1 through BUNDLE.
    let v1 = offer.media_by_mid("v1").unwrap();
    assert!(offer.ice_credentials(v1).is_none());
    assert_eq!(v1.codec(104).unwrap().name(), Some("flexfec"));
    let rids: Vec<_> = v1
        .rids()
        .map(|r| (r.id.as_ref(), r.direction, r.payload_types.len()))
        .collect();
    assert_eq!(
        rids,
        [
            ("1", RidDirection::Send, 0),
            ("2", RidDirection::Send, 0),
            ("3", RidDirection::Send, 0)
        ]
    );
    let sim = v1.simulcast().unwrap();
    assert_eq!(sim.lists.len(), 1);
    assert_eq!(sim.lists[0].direction, RidDirection::Send);
    let streams: Vec<Vec<(&str, bool)>> = sim.lists[0]
        .streams
        .iter()
        .map(|s| s.iter().map(|r| (r.rid.as_ref(), r.paused)).collect())
        .collect();
    assert_eq!(streams, [[("1", false)], [("2", false)], [("3", false)]]);
    let v2 = offer.media_by_mid("v2").unwrap();
    assert_eq!(v2.rids().count(), 0);
    assert!(v2.simulcast().is_none());
    assert_eq!(
        v2.msid().unwrap().stream,
        "81317484-2ed4-49d7-9eb7-1414322a7aae"
    );

    let answer = parse("answer-B2", RFC8829_ANSWER_B2);
    assert_eq!(
        mids(&answer),
        [Some("a1"), Some("d1"), Some("v1"), Some("v2")]
    );
    let audio = answer.media_by_mid("a1").unwrap();
    assert_eq!(answer.setup(audio), Some(Setup::Passive));
    assert_eq!(audio.candidates().count(), 3);
    for mid in ["v1", "v2"] {
        let v = answer.media_by_mid(mid).unwrap();
        assert_eq!(answer.direction(v), Direction::RecvOnly, "{mid}");
        assert_eq!(v.formats, Formats::Rtp(vec![100, 101, 102, 103]), "{mid}");
        assert_eq!(
            v.other_attribute("imageattr"),
            Some(Some("100 recv [x=[48:1920],y=[48:1080],q=1.0]")),
            "{mid}"
        );
    }
}
