//! Arbitrary payload sequences into every depacketizer (VP8, VP9, H.264, H.265, AV1, audio) (the first octet picks which, or a
//! packetize-depacketize round trip): never a panic, never a malformed frame.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 7 {
        0 => weft_rtp::fuzzing::depacketize_vp8(rest),
        1 => weft_rtp::fuzzing::depacketize_h264(rest),
        2 => weft_rtp::fuzzing::depacketize_audio(rest),
        3 => weft_rtp::fuzzing::depacketize_vp9(rest),
        4 => weft_rtp::fuzzing::depacketize_h265(rest),
        5 => weft_rtp::fuzzing::depacketize_av1(rest),
        _ => weft_rtp::fuzzing::packetize_round_trip(rest),
    }
});
