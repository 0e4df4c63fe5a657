// Package webm writes RTP media as a WebM file: one Opus audio track and one
// VP8 video track, streamed to an io.Writer (the spool) as it arrives, never
// held whole in memory. The Matroska container comes from
// github.com/at-wat/ebml-go; frames are reassembled with Pion's samplebuilder
// and the rtp/codecs depacketizers, so reordered packets are put back in
// order and frames that lost a packet are dropped, not written broken.
//
// Timestamps: each track's times come from its RTP timestamps and clock
// rate (48 kHz Opus, 90 kHz VP8), unwrapped past 2^32, and are rebased so
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
// every written frame decodes.
//
// The file is a live WebM (clusters of unknown size, no Cues, no Duration):
// any prefix of it is playable, so a crash leaves a usable recording. H264
// (into Matroska or MP4), VP9 and AV1 are not written yet: New refuses them
// with ErrUnsupportedCodec.
package webm
