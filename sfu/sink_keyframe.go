package sfu

// requestKeyframe asks the publisher for a keyframe of the layer this
// downTrack forwards (its target before the first keyframe). Sinks call it
// through TrackInfo.RequestKeyframe when their muxer lost a frame.
func (d *downTrack) requestKeyframe(now int64) bool {
	d.mu.Lock()
	l := d.sel.current
	if l < 0 {
		l = d.sel.target
	}
	d.mu.Unlock()
	return d.pub.requestKeyframe(int(l), now)
}
