package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/televisit/televisit/recording"
)

// RecordingSource is what the recording collector reads (*recording.Manager).
type RecordingSource interface{ Stats() recording.Stats }

var (
	recActive  = desc("recording", "active", "Recordings in progress on this node.")
	recUploads = desc("recording", "uploads_total", "Object upload attempts to storage, by result (ok, error; errors are retried).", "result")
	recBytes   = desc("recording", "uploaded_bytes_total", "Bytes stored by successful recording uploads.")
)

type recordingCollector struct{ src RecordingSource }

func (c recordingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- recActive
	ch <- recUploads
	ch <- recBytes
}

func (c recordingCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Stats()
	ch <- gauge(recActive, float64(st.Active))
	ch <- counter(recUploads, float64(st.UploadsOK), "ok")
	ch <- counter(recUploads, float64(st.UploadsFailed), "error")
	ch <- counter(recBytes, float64(st.BytesUploaded))
}

// WatchRecording collects active recordings and uploads.
func (m *Metrics) WatchRecording(src RecordingSource) error {
	return m.reg.Register(recordingCollector{src})
}
