//! Byte-literal tests: one record per edge case, expected text as htslib 1.16 prints it.

use noodles_sam::alignment::RecordBuf;
use noodles_sam::alignment::record::Flags;
use noodles_sam::alignment::record::MappingQuality;
use noodles_sam::alignment::record::cigar::Op;
use noodles_sam::alignment::record::cigar::op::Kind;
use noodles_sam::alignment::record_buf::data::field::Value;
use noodles_sam::alignment::record_buf::data::field::value::Array;
use noodles_sam::alignment::record_buf::{Cigar, Data, QualityScores, Sequence};
use noodles_sam::header::record::value::Map;
use noodles_sam::header::record::value::map::ReferenceSequence;

use super::*;

/// A BAM record (without `block_size`) built field by field.
struct Raw {
    tid: i32,
    pos: i32,
    mapq: u8,
    flag: u16,
    mtid: i32,
    mpos: i32,
    tlen: i32,
    name: &'static [u8],
    cigar: Vec<u32>,
    seq: &'static [u8],
    qual: Vec<u8>,
    aux: Vec<u8>,
}

impl Default for Raw {
    fn default() -> Self {
        Self {
            tid: 0,
            pos: 99,
            mapq: 60,
            flag: 0,
            mtid: -1,
            mpos: -1,
            tlen: 0,
            name: b"r1",
            cigar: vec![4 << 4],
            seq: b"ACGT",
            qual: vec![30, 31, 32, 33],
            aux: Vec::new(),
        }
    }
}

impl Raw {
    fn bytes(&self) -> Vec<u8> {
        let code = |b: u8| NT16.iter().position(|&c| c == b).unwrap() as u8;
        let mut v = Vec::new();
        v.extend(self.tid.to_le_bytes());
        v.extend(self.pos.to_le_bytes());
        v.push(self.name.len() as u8 + 1);
        v.push(self.mapq);
        v.extend(0u16.to_le_bytes());
        v.extend((self.cigar.len() as u16).to_le_bytes());
        v.extend(self.flag.to_le_bytes());
        v.extend((self.seq.len() as u32).to_le_bytes());
        v.extend(self.mtid.to_le_bytes());
        v.extend(self.mpos.to_le_bytes());
        v.extend(self.tlen.to_le_bytes());
        v.extend(self.name);
        v.push(0);
        for op in &self.cigar {
            v.extend(op.to_le_bytes());
        }
        for pair in self.seq.chunks(2) {
            let hi = code(pair[0]) << 4;
            v.push(hi | pair.get(1).map_or(0, |&b| code(b)));
        }
        v.extend(&self.qual);
        v.extend(&self.aux);
        v
    }

    fn text(&self) -> Result<String, RecordError> {
        let bytes = self.bytes();
        let record = BamRecord::parse(&bytes)?;
        let mut dst = b"previous\n".to_vec();
        write_bam_record(&mut dst, &record, &["chr1", "chr2"])?;
        let text = String::from_utf8(dst).unwrap();
        Ok(text.strip_prefix("previous\n").unwrap().to_owned())
    }
}

fn tag(name: &[u8; 2], ty: u8, value: &[u8]) -> Vec<u8> {
    let mut v = name.to_vec();
    v.push(ty);
    v.extend(value);
    v
}

fn array(name: &[u8; 2], subtype: u8, count: u32, data: &[u8]) -> Vec<u8> {
    let mut v = tag(name, b'B', &[subtype]);
    v.extend(count.to_le_bytes());
    v.extend(data);
    v
}

#[test]
fn mapped_record_appends_one_line() {
    let text = Raw::default().text().unwrap();
    assert_eq!(text, "r1\t0\tchr1\t100\t60\t4M\t*\t0\t0\tACGT\t?@AB\n");
}

#[test]
fn unmapped_record_without_anything() {
    let raw = Raw {
        tid: -1,
        pos: -1,
        mapq: 0,
        flag: 4,
        cigar: vec![],
        seq: b"",
        qual: vec![],
        name: b"",
        ..Raw::default()
    };
    assert_eq!(raw.text().unwrap(), "\t4\t*\t0\t0\t*\t*\t0\t0\t*\t*\n");
}

#[test]
fn rnext_is_equals_sign_only_when_same_reference() {
    let same = Raw {
        mtid: 0,
        mpos: 199,
        tlen: -150,
        ..Raw::default()
    };
    assert!(same.text().unwrap().contains("\t=\t200\t-150\t"));
    let other = Raw {
        mtid: 1,
        mpos: 9,
        ..Raw::default()
    };
    assert!(other.text().unwrap().contains("\tchr2\t10\t0\t"));
    let unplaced = Raw {
        tid: -1,
        mtid: -1,
        ..Raw::default()
    };
    assert!(
        unplaced
            .text()
            .unwrap()
            .starts_with("r1\t0\t*\t100\t60\t4M\t*\t0\t")
    );
}

#[test]
fn missing_quality_is_star_when_first_byte_is_ff() {
    let raw = Raw {
        qual: vec![0xff; 4],
        ..Raw::default()
    };
    assert!(raw.text().unwrap().ends_with("\tACGT\t*\n"));
    // htslib looks at the first byte only.
    let raw = Raw {
        qual: vec![0xff, 0, 0, 0],
        ..Raw::default()
    };
    assert!(raw.text().unwrap().ends_with("\tACGT\t*\n"));
}

#[test]
fn odd_length_sequence_and_every_base_code() {
    let raw = Raw {
        seq: b"=ACMGRSVTWYHKDBN",
        qual: vec![0; 16],
        cigar: vec![16 << 4],
        ..Raw::default()
    };
    assert!(
        raw.text()
            .unwrap()
            .contains("\t=ACMGRSVTWYHKDBN\t!!!!!!!!!!!!!!!!\n")
    );
    let raw = Raw {
        seq: b"ACG",
        qual: vec![0, 1, 2],
        cigar: vec![3 << 4],
        ..Raw::default()
    };
    assert!(raw.text().unwrap().ends_with("\tACG\t!\"#\n"));
}

#[test]
fn cigar_operations() {
    let ops = (0..9).map(|op| (op + 1) << 4 | op).collect();
    let raw = Raw {
        cigar: ops,
        ..Raw::default()
    };
    assert!(raw.text().unwrap().contains("\t1M2I3D4N5S6H7P8=9X\t"));
}

#[test]
fn integer_tags_all_print_as_i() {
    let mut aux = tag(b"Xc", b'c', &[0x80]);
    aux.extend(tag(b"XC", b'C', &[0xff]));
    aux.extend(tag(b"Xs", b's', &(-300i16).to_le_bytes()));
    aux.extend(tag(b"XS", b'S', &65535u16.to_le_bytes()));
    aux.extend(tag(b"Xi", b'i', &i32::MIN.to_le_bytes()));
    aux.extend(tag(b"XI", b'I', &u32::MAX.to_le_bytes()));
    let text = Raw {
        aux,
        ..Raw::default()
    }
    .text()
    .unwrap();
    assert!(text.ends_with(
        "\tXc:i:-128\tXC:i:255\tXs:i:-300\tXS:i:65535\tXi:i:-2147483648\tXI:i:4294967295\n"
    ));
}

#[test]
fn char_string_hex_and_float_tags() {
    let mut aux = tag(b"XA", b'A', b"!");
    aux.extend(tag(b"XZ", b'Z', b"hello world\0"));
    aux.extend(tag(b"XE", b'Z', b"\0"));
    aux.extend(tag(b"XH", b'H', b"1AE301\0"));
    aux.extend(tag(
        b"Xf",
        b'f',
        &"3.14159265".parse::<f32>().unwrap().to_le_bytes(),
    ));
    aux.extend(tag(b"Xg", b'f', &(-0.0f32).to_le_bytes()));
    aux.extend(tag(b"Xh", b'f', &1e-45f32.to_le_bytes()));
    aux.extend(tag(b"Xj", b'f', &123_456_789f32.to_le_bytes()));
    let text = Raw {
        aux,
        ..Raw::default()
    }
    .text()
    .unwrap();
    assert!(text.ends_with(
        "\tXA:A:!\tXZ:Z:hello world\tXE:Z:\tXH:H:1AE301\tXf:f:3.14159\tXg:f:-0\
         \tXh:f:1.4013e-45\tXj:f:1.23457e+08\n"
    ));
}

#[test]
fn arrays_of_every_subtype_and_empty_ones() {
    let mut aux = array(b"Ac", b'c', 2, &[0xff, 1]);
    aux.extend(array(b"AC", b'C', 2, &[0xff, 1]));
    aux.extend(array(b"As", b's', 1, &(-2i16).to_le_bytes()));
    aux.extend(array(b"AS", b'S', 1, &65535u16.to_le_bytes()));
    aux.extend(array(b"Ai", b'i', 1, &(-7i32).to_le_bytes()));
    aux.extend(array(b"AI", b'I', 1, &u32::MAX.to_le_bytes()));
    let floats: Vec<u8> = [0.5f32, -0.0, f32::INFINITY]
        .iter()
        .flat_map(|f| f.to_le_bytes())
        .collect();
    aux.extend(array(b"Af", b'f', 3, &floats));
    for subtype in *b"cCsSiIf" {
        aux.extend(array(b"Ze", subtype, 0, &[]));
    }
    let text = Raw {
        aux,
        ..Raw::default()
    }
    .text()
    .unwrap();
    assert!(text.ends_with(
        "\tAc:B:c,-1,1\tAC:B:C,255,1\tAs:B:s,-2\tAS:B:S,65535\tAi:B:i,-7\tAI:B:I,4294967295\
         \tAf:B:f,0.5,-0,inf\tZe:B:c\tZe:B:C\tZe:B:s\tZe:B:S\tZe:B:i\tZe:B:I\tZe:B:f\n"
    ));
}

#[test]
fn cg_tag_replaces_a_placeholder_cigar_and_is_hidden() {
    let real: Vec<u8> = [2 << 4, 1 << 4 | 1, 1 << 4]
        .iter()
        .flat_map(|op: &u32| op.to_le_bytes())
        .collect();
    let mut aux = tag(b"XA", b'A', b"x");
    aux.extend(array(b"CG", b'I', 3, &real));
    aux.extend(tag(b"NM", b'C', &[1]));
    let raw = Raw {
        cigar: vec![4 << 4 | 4, 3 << 4 | 3],
        aux,
        ..Raw::default()
    };
    let text = raw.text().unwrap();
    assert_eq!(
        text,
        "r1\t0\tchr1\t100\t60\t2M1I1M\t*\t0\t0\tACGT\t?@AB\tXA:A:x\tNM:i:1\n"
    );
    let bytes = raw.bytes();
    assert!(BamRecord::parse(&bytes).unwrap().has_cg_cigar());

    // Unplaced: htslib leaves the CIGAR and the tag alone.
    let unplaced = Raw {
        tid: -1,
        pos: -1,
        ..raw
    };
    let text = unplaced.text().unwrap();
    assert!(text.contains("\t4S3N\t"), "{text}");
    assert!(text.contains("\tCG:B:I,32,17,16\t"), "{text}");
}

#[test]
fn structural_errors() {
    let bytes = Raw::default().bytes();
    assert_eq!(
        BamRecord::parse(&bytes[..31]).unwrap_err(),
        RecordError::TooShort { len: 31 }
    );
    assert_eq!(
        BamRecord::parse(&bytes[..bytes.len() - 1]).unwrap_err(),
        RecordError::Truncated { field: "QUAL" }
    );
    let mut unterminated = bytes.clone();
    unterminated[34] = b'x';
    assert_eq!(
        BamRecord::parse(&unterminated).unwrap_err(),
        RecordError::NameNotTerminated
    );
    let mut inner_nul = bytes.clone();
    inner_nul[33] = 0;
    assert_eq!(
        BamRecord::parse(&inner_nul).unwrap_err(),
        RecordError::NameHasNul
    );
    let mut no_name = bytes;
    no_name[8] = 0;
    assert_eq!(
        BamRecord::parse(&no_name).unwrap_err(),
        RecordError::EmptyName
    );
}

#[test]
fn aux_errors() {
    let text = |aux: Vec<u8>| {
        Raw {
            aux,
            ..Raw::default()
        }
        .text()
        .unwrap_err()
    };
    assert_eq!(
        text(tag(b"XD", b'd', &[0; 8])),
        RecordError::InvalidTagType {
            tag: *b"XD",
            ty: b'd'
        }
    );
    assert_eq!(
        text(array(b"XB", b'A', 0, &[])),
        RecordError::InvalidArrayType {
            tag: *b"XB",
            subtype: b'A'
        }
    );
    assert_eq!(
        text(tag(b"XZ", b'Z', b"abc")),
        RecordError::TagNotTerminated { tag: *b"XZ" }
    );
    assert_eq!(
        text(array(b"XB", b'i', 2, &[0; 7])),
        RecordError::TagTruncated { tag: *b"XB" }
    );
    assert_eq!(
        text(tag(b"Xi", b'i', &[0; 3])),
        RecordError::TagTruncated { tag: *b"Xi" }
    );
    assert_eq!(
        text(b"XA".to_vec()),
        RecordError::StrayAuxBytes { count: 2 }
    );
    assert_eq!(
        Raw {
            tid: 2,
            ..Raw::default()
        }
        .text()
        .unwrap_err(),
        RecordError::ReferenceOutOfRange {
            field: "RNAME",
            id: 2,
            count: 2
        }
    );
    assert_eq!(
        text(tag(b"XD", b'd', &[0; 8])).to_string(),
        "tag XD has the invalid type 'd'"
    );
}

fn header() -> noodles_sam::Header {
    noodles_sam::Header::builder()
        .add_reference_sequence(
            "chr1",
            Map::<ReferenceSequence>::new(std::num::NonZero::new(1000).unwrap()),
        )
        .add_reference_sequence(
            "chr2",
            Map::<ReferenceSequence>::new(std::num::NonZero::new(2000).unwrap()),
        )
        .build()
}

fn record_buf() -> RecordBuf {
    let data: Data = [
        (Tag::from(*b"XA"), Value::Character(b'!')),
        (Tag::from(*b"Xc"), Value::Int8(-1)),
        (Tag::from(*b"XS"), Value::UInt16(65535)),
        (Tag::from(*b"XI"), Value::UInt32(u32::MAX)),
        (Tag::from(*b"Xf"), Value::Float(123_456_789.0)),
        (Tag::from(*b"XZ"), Value::String("a b".into())),
        (Tag::from(*b"XH"), Value::Hex("CAFE".into())),
        (Tag::from(*b"Bc"), Value::Array(Array::Int8(vec![]))),
        (
            Tag::from(*b"Bf"),
            Value::Array(Array::Float(vec![-0.0, 1e-45])),
        ),
        (Tag::from(*b"BI"), Value::Array(Array::UInt32(vec![1, 2]))),
    ]
    .into_iter()
    .collect();
    RecordBuf::builder()
        .set_name("q1")
        .set_flags(Flags::from(0x63))
        .set_reference_sequence_id(1)
        .set_alignment_start(noodles_core::Position::new(5).unwrap())
        .set_mapping_quality(MappingQuality::new(37).unwrap())
        .set_cigar(Cigar::from(vec![
            Op::new(Kind::SoftClip, 1),
            Op::new(Kind::Match, 3),
        ]))
        .set_mate_reference_sequence_id(1)
        .set_mate_alignment_start(noodles_core::Position::new(50).unwrap())
        .set_template_length(60)
        .set_sequence(Sequence::from(b"acgU".to_vec()))
        .set_quality_scores(QualityScores::from(vec![0, 1, 2, 40]))
        .set_data(data)
        .build()
}

use noodles_sam::alignment::record::data::field::Tag;

const RECORD_BUF_TEXT: &str = "q1\t99\tchr2\t5\t37\t1S3M\t=\t50\t60\tACGT\t!\"#I\tXA:A:!\tXc:i:-1\
    \tXS:i:65535\tXI:i:4294967295\tXf:f:1.23457e+08\tXZ:Z:a b\tXH:H:CAFE\tBc:B:c\
    \tBf:B:f,-0,1.4013e-45\tBI:B:I,1,2\n";

#[test]
fn record_buf_prints_like_htslib() {
    let mut dst = Vec::new();
    write_record_buf(&mut dst, &header(), &record_buf()).unwrap();
    assert_eq!(String::from_utf8(dst).unwrap(), RECORD_BUF_TEXT);
}

#[test]
fn record_trait_prints_the_same_as_record_buf() {
    let mut dst = Vec::new();
    write_record(&mut dst, &header(), &record_buf()).unwrap();
    assert_eq!(String::from_utf8(dst).unwrap(), RECORD_BUF_TEXT);
}

#[test]
fn record_buf_defaults_print_stars_and_zeros() {
    let mut dst = Vec::new();
    write_record_buf(&mut dst, &header(), &RecordBuf::default()).unwrap();
    assert_eq!(dst, b"*\t4\t*\t0\t255\t*\t*\t0\t0\t*\t*\n");
    let mut dst = Vec::new();
    write_record(&mut dst, &header(), &RecordBuf::default()).unwrap();
    assert_eq!(dst, b"*\t4\t*\t0\t255\t*\t*\t0\t0\t*\t*\n");
}

#[test]
fn record_buf_missing_quality_and_other_mate_reference() {
    let mut record = record_buf();
    *record.quality_scores_mut() = QualityScores::default();
    *record.mate_reference_sequence_id_mut() = Some(0);
    record.data_mut().clear();
    let mut dst = Vec::new();
    write_record_buf(&mut dst, &header(), &record).unwrap();
    assert_eq!(dst, b"q1\t99\tchr2\t5\t37\t1S3M\tchr1\t50\t60\tACGT\t*\n");
    *record.reference_sequence_id_mut() = Some(7);
    let err = write_record_buf(&mut Vec::new(), &header(), &record).unwrap_err();
    assert_eq!(err.to_string(), "RNAME reference id 7 is not in the header");
}
