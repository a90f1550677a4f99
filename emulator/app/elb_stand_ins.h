// Stand-ins for the ALB data plane and health checker while their implementations
// are not part of the build: listeners are bound (so each has its local port and the
// port is taken) but serve nothing, and every probed target stays `initial`.
// Loop thread only.
#pragma once

#include <memory>

#include "elb/data_plane.h"
#include "elb/elbv2.h"

namespace understudy::app {

std::unique_ptr<elb::DataPlane> NewBoundOnlyDataPlane();
std::unique_ptr<elb::TargetHealthSource> NewInitialHealth();

}  // namespace understudy::app
