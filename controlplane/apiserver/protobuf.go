package apiserver

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

// protobufCodec encodes responses and watch events in the Kubernetes
// protobuf encoding client-go asks for first: objects with the "k8s\0"
// envelope; watch events as length-prefixed frames of a raw WatchEvent
// whose object is an enveloped object.
type protobufCodec struct {
	serializer runtime.Serializer // enveloped objects
	raw        runtime.Serializer // frames of a watch stream
	framer     runtime.Framer
}

func newProtobufCodec(scheme *runtime.Scheme) protobufCodec {
	return protobufCodec{
		serializer: protobuf.NewSerializer(scheme, scheme),
		raw:        protobuf.NewRawSerializer(scheme, scheme),
		framer:     protobuf.LengthDelimitedFramer,
	}
}
