package recording

import "time"

// videoWait is how long the muxer holds the first packets of a participant
// whose video track is not open yet (its audio often opens first): the
// video codec, and so the container, is fixed when the writer is made.
const videoWait = time.Second

// mux writes queued packets, seals the spool every FlushEvery and
// completes it when the queue closes. The first packets are held until a
// video track is open or videoWait has passed, then the object begins.
func (p *partRec) mux() {
	defer close(p.muxed)
	tick := time.NewTicker(p.s.m.cfg.FlushEvery)
	defer tick.Stop()
	var held []queued
	for {
		select {
		case q, ok := <-p.queue:
			if !ok {
				p.closeFiles(held)
				return
			}
			if p.w != nil {
				p.write(q)
				continue
			}
			if held = append(held, q); !p.awaitVideo(held) {
				if !p.openAndWrite(held) {
					return
				}
				held = nil
			}
		case <-tick.C:
			if p.w == nil && len(held) > 0 && !p.awaitVideo(held) {
				if !p.openAndWrite(held) {
					return
				}
				held = nil
			}
			_ = p.sp.Flush()
		case <-p.s.m.quit:
			return // a crash: the spool keeps what was flushed
		}
	}
}

// awaitVideo tells whether to keep holding the first packets: no video
// track is open, the first came less than videoWait ago and the hold is
// not full.
func (p *partRec) awaitVideo(held []queued) bool {
	p.mu.Lock()
	video := p.codec != ""
	p.mu.Unlock()
	return !video && len(held) < cap(p.queue) && time.Since(held[0].at) < videoWait
}

// openAndWrite begins the object, makes the writer and writes the held
// packets; false when the object could not begin (the queue was drained).
func (p *partRec) openAndWrite(held []queued) bool {
	if !p.open() {
		return false
	}
	for _, q := range held {
		p.write(q)
	}
	return true
}

func (p *partRec) write(q queued) {
	if err := p.w.WriteRTP(q.kind, &q.pkt, q.at); err != nil {
		p.s.m.log.Warn("recording write failed", "object", p.obj, "err", err)
	}
}

// drain discards the queue after the writer failed, then closes the spool.
func (p *partRec) drain() {
	for ok := true; ok; {
		select {
		case _, ok = <-p.queue:
		case <-p.s.m.quit:
			return
		}
	}
	if err := p.sp.Close(); err != nil {
		p.s.m.log.Warn("recording close spool", "object", p.obj, "err", err)
	}
}

// closeFiles writes what is still held (or, when nothing came, an empty
// file) and completes the file and the spool.
func (p *partRec) closeFiles(held []queued) {
	if p.w == nil && !p.openAndWrite(held) {
		return
	}
	if err := p.w.Close(); err != nil {
		p.s.m.log.Warn("recording close file", "object", p.obj, "container", p.container.Name, "err", err)
	}
	if err := p.sp.Close(); err != nil {
		p.s.m.log.Warn("recording close spool", "object", p.obj, "err", err)
	}
}
