/* berth/berth.h: the whole public API of libberth.
 * Link with `pkg-config --cflags --libs libberth`. */
#ifndef BERTH_BERTH_H
#define BERTH_BERTH_H

#include <berth/version.h>
#include <berth/features.h>
#include <berth/common.h>
#include <berth/cgroup.h>
#include <berth/image.h>
#include <berth/runtime.h>
#include <berth/storage.h>
#include <berth/volume.h>
#include <berth/network.h>
#include <berth/container.h>

#endif
