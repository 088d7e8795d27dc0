"""autograd_nn.examples"""
