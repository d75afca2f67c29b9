// Descriptor codecs: defined inline in vnic/model/descriptor.hpp (they are on every packet's
// path); this unit keeps the header compiling on its own.
#include "vnic/model/descriptor.hpp"
