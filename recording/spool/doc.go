// Package spool keeps a recording on local disk, encrypted, while it is
// being made and until the object store has it: the spool is the source of
// truth, and an upload that failed (the store unreachable) restarts from it.
//
// A spool file is append-only:
//
//	header: magic "TVSPOOL1" | uint16 len(sealedKey) | sealedKey
//	chunk:  uint32 (bit 31 = final, bits 0-30 = len(ct)) | ct
//
// sealedKey is a fresh random AES-256 data key for this file, sealed with
// internal/sealbox under the configured key ring (so keys rotate as sealbox
// keys do). Each chunk holds up to ChunkSize bytes of plaintext sealed with
// AES-256-GCM under the data key; the nonce is the chunk index (unique
// because the key is unique to the file) and the additional data is the
// index and the final flag, so reordered, dropped, duplicated or tampered
// chunks fail to open, and a file that ends without a final chunk is known
// to be incomplete. The last chunk is always sealed with the final flag by
// Close.
//
// Crashes: a chunk reaches the file in one write. A process crash loses
// only the plaintext not yet sealed (at most ChunkSize, less if the owner
// calls Flush or Sync periodically); a chunk torn by a crash is shorter
// than its length field and is dropped by the reader, which returns the
// readable prefix and reports Complete() == false.
//
// fsync policy: Create syncs the header and the directory entry; Sync seals
// the pending plaintext and fsyncs; Close fsyncs. Between Syncs, written
// chunks are in the page cache: they survive a crash of televisit but not a
// power loss. The recorder calls Sync once a second, bounding what a power
// loss can take.
package spool
