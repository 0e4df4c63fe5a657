// Package webm writes RTP media as a WebM or Matroska file: one Opus audio
// track and one video track, streamed to an io.Writer (the spool) as it
// arrives, never held whole in memory. VP8, VP9 and AV1 go into WebM
// (V_VP8, V_VP9, V_AV1); H264 into Matroska (V_MPEG4/ISO/AVC, frames as
// length-prefixed NAL units); ContainerOf names the container, its file
// extension and MIME type. The Matroska container comes from
// github.com/at-wat/ebml-go; frames are reassembled with Pion's samplebuilder
// and the rtp/codecs depacketizers, so reordered packets are put back in
// order and frames that lost a packet are dropped, not written broken.
//
// Timestamps: each track's times come from its RTP timestamps and clock
// rate (48 kHz Opus, 90 kHz video), unwrapped past 2^32, and are rebased so
// that 0 is the arrival of the first packet of the recording (any track);
// a track that starts later starts at its own arrival offset. Gaps in RTP
// time (a muted sender, lost packets) stay gaps in the file. Times are
// strictly increasing per track: a frame that would go backwards (one that
// arrived after the track stopped waiting for it, see Config.MaxDelay) is
// dropped. A new SSRC on a track (a sender restart) re-anchors that
// track at the packet's arrival.
//
// Video starts at a keyframe, and after a lost frame the track waits for the
// next keyframe (Config.OnKeyframeNeeded lets the recorder send a PLI), so
// every written frame decodes. Keyframes are read from the bitstream: the
// VP8 frame tag, the VP9 uncompressed header (frame_type), an H264 IDR
// slice, an AV1 temporal unit carrying a sequence header (WebRTC senders
// and libaom send one with each key frame). Lost frames are found by the
// picture id (VP8, VP9) or by the packets the sample builder dropped
// (H264, AV1).
//
// H264 and AV1 need a CodecPrivate from the stream (the avcC from the
// SPS/PPS, the av1C from the sequence header), so their file header is
// written at the first video keyframe; the audio before it waits in memory
// (at most about 30 s, then the header is written with a CodecPrivate
// without parameter sets, and decoders take them from the stream, which
// keeps its in-band SPS/PPS and sequence headers).
//
// The file is a live WebM (clusters of unknown size, no Cues, no Duration):
// any prefix of it is playable, so a crash leaves a usable recording. Other
// codecs (H265, G.711 ...) are refused by New with ErrUnsupportedCodec.
package webm
