fn main() {
    use weft_sdp::*;
    println!("Attribute {}", std::mem::size_of::<Attribute>());
    println!("Candidate {}", std::mem::size_of::<Candidate>());
    println!("Address {}", std::mem::size_of::<Address>());
    println!("Media {}", std::mem::size_of::<MediaDescription>());
    println!("Rid {}", std::mem::size_of::<Rid>());
    println!("Extmap {}", std::mem::size_of::<Extmap>());
    println!("Rtcp {}", std::mem::size_of::<Rtcp>());
    println!("Fmtp {}", std::mem::size_of::<Fmtp>());
}
