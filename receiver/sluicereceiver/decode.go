package sluicereceiver

import (
	"errors"
	"fmt"
	"io"

	"github.com/sluicehq/sluice/internal/backpressure"
)

// decode reads an admitted body into a new request, for both transports. A failure is the
// client's: 400 / INVALID_ARGUMENT with a message naming what was wrong.
func (s *signal[Req, Resp]) decode(enc *encoding, body []byte) (Req, backpressure.Response) {
	req := s.newRequest()
	var err error
	if s.decoder != nil {
		err = s.decoder(enc, req, body)
	} else {
		err = enc.unmarshal(req, body)
	}
	if err != nil {
		return req, malformed(s.name, enc.format, len(body), err)
	}
	return req, backpressure.OK
}

// malformed words a decode failure: which request, how large, and the decoder's reason.
func malformed(signal, format string, size int, err error) backpressure.Response {
	reason := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		reason = "truncated: " + reason
	}
	return backpressure.BadRequest(fmt.Sprintf("malformed %s %s request (%d bytes): %s", format, signal, size, reason))
}
