"""Geometric grasping and placing for the Stretch gripper: proposals, kinematics, place points, execution."""
