// Package mediatest makes RTP media for the recording tests: real VP8 and
// Opus encoded by ffmpeg (Debian's ffmpeg, installed by `make deps`) and
// packetized with Pion, impairments (loss, reordering), synthetic media for
// benchmarks, and ffprobe/ffmpeg checks of the written files.
package mediatest
