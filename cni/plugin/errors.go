package plugin

import (
	"errors"
	"fmt"

	"github.com/containernetworking/cni/pkg/types"
)

// Plugin-specific error codes (the spec leaves 100 and up to plugins).
const (
	// CodeAttachmentExists: a second ADD of an attachment without a DEL, or
	// the interface name is already taken in the pod's namespace.
	CodeAttachmentExists uint = 100
	// CodeRangeExhausted: every address of the pod range is in use.
	CodeRangeExhausted uint = 101
	// CodeCheckFailed: CHECK found the attachment differs from prevResult.
	CodeCheckFailed uint = 102
)

// cniError returns a CNI error with code and a message saying what to fix.
func cniError(code uint, format string, args ...any) *types.Error {
	return types.NewError(code, fmt.Sprintf(format, args...), "")
}

// internal wraps an unexpected failure (code 999) keeping what was done.
func internal(err error, format string, args ...any) *types.Error {
	var te *types.Error
	if errors.As(err, &te) {
		return te
	}
	return types.NewError(types.ErrInternal, fmt.Sprintf(format, args...)+": "+err.Error(), "")
}
