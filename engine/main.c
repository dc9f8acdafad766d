#include "engine/wiring.h"
int main(void)
{
    vg_register_all();
    return 0;
}
